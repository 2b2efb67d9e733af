# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv and install the package first.
PY     ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   ?= demo
WORKERS ?= 2

.PHONY: demo demo-rare test install export readme clean-demo

# The stamp holds pyproject.toml's checksum: nbdev-export rewrites that file (same content, new time) on every export,
# so its time alone would reinstall the package after each one.
$(STAMP): pyproject.toml
	sha1sum pyproject.toml | cmp -s - $(STAMP) || { (test -x $(BIN)/python || $(PY) -m venv $(VENV)) && \
	  $(BIN)/python -m pip install -q --upgrade pip && $(BIN)/python -m pip install -q -e ".[dev]"; }
	sha1sum pyproject.toml > $(STAMP)

install: $(STAMP)

# The whole loop on built-in demo data: write DICOM studies, ingest, label a seed set from the ground truth
# and the hold-out set (standing in for a reader), train, score the pool, evaluate on the hold-out once, then
# compare query strategies in a short simulation.
demo: $(STAMP)
	$(BIN)/al-demo $(DEMO) --n-patients 80 --seed 0
	$(BIN)/al-ingest $(DEMO)/dicom --project $(DEMO)/project
	$(BIN)/al-demo-label --project $(DEMO)/project --truth $(DEMO)/demo_truth.csv --n 200
	$(BIN)/al-demo-label --project $(DEMO)/project --truth $(DEMO)/demo_truth.csv --splits test
	$(BIN)/al-train --project $(DEMO)/project
	$(BIN)/al-evaluate --project $(DEMO)/project
	$(BIN)/al-simulate --project $(DEMO)/project --truth $(DEMO)/demo_truth.csv --strategies random,stratified,typiclust@0.5 --rounds 5 --repeats 3 --out $(DEMO)/simulation
	@echo "Label more with: $(BIN)/al-label --project $(DEMO)/project"

# The rare case, end to end: an archive where 2.5% of the images show a biopsy tool and 2.5% are magnification views.
# The learn queue's cold start (the header's magnification hint and the metal score, with a random share) gives the first
# 100 labels, labeled from the ground truth as a reader in the queue would; al-train trains on them (a label with too few
# positives is left untrained, never refused); al-evaluate looks at the hold-out once; and al-simulate compares the
# queue's own rule with random sampling on positives found and average precision.
RARE ?= demo-rare
demo-rare: $(STAMP)
	$(BIN)/al-demo $(RARE) --n-patients 320 --seed 7 --p-tool 0.025 --p-mag 0.025 --size 1024
	$(BIN)/al-ingest $(RARE)/dicom --project $(RARE)/project --rare biopsy_tool,mag_view
	$(BIN)/al-demo-label --project $(RARE)/project --truth $(RARE)/demo_truth.csv --splits test
	$(BIN)/al-queue --project $(RARE)/project
	$(BIN)/al-demo-label --project $(RARE)/project --truth $(RARE)/demo_truth.csv --queue learn --n 100
	$(BIN)/al-train --project $(RARE)/project
	$(BIN)/al-evaluate --project $(RARE)/project
	$(BIN)/al-simulate --project $(RARE)/project --truth $(RARE)/demo_truth.csv --strategies random,loop --rounds 9 --repeats 3 --out $(RARE)/simulation
	@echo "Label more with: $(BIN)/al-label --project $(RARE)/project"

# Every notebook test, slow cells included, the browser test, then a check that the library matches the notebooks
# and has no unused import.
# The tests' temporary folders (projects, DICOMs, models: a few hundred MB a run) go under TEST_TMP, emptied
# at the start and removed at the end; after a failure they stay there to look at, until the next run.
TEST_TMP := $(CURDIR)/.test-tmp
test: export TMPDIR = $(TEST_TMP)
test: $(STAMP)
	rm -rf $(TEST_TMP) && mkdir -p $(TEST_TMP)
	$(BIN)/nbdev-test --flags slow --n-workers $(WORKERS) --timing
	$(BIN)/python -m pytest -rs -q tests
	rm -rf $(TEST_TMP)
	$(BIN)/nbdev-export
	$(BIN)/ruff check --select F401 active_learn
	git diff --exit-code -- active_learn || (echo "active_learn/ differs from nbs/: run nbdev-export and commit" && exit 1)

export: $(STAMP)
	$(BIN)/nbdev-export
	$(BIN)/nbdev-clean

# README.md from nbs/index.ipynb: nbdev-readme when Quarto is installed; offline (Quarto is not on PyPI as a
# working wheel), the notebook's markdown cells and visible code cells, in order, which is what nbdev-readme renders.
readme: $(STAMP)
	if command -v quarto >/dev/null; then $(BIN)/nbdev-readme; else $(BIN)/python -c "$$README_PY"; fi

define README_PY
import json
cells = json.load(open('nbs/index.ipynb'))['cells']
out = [''.join(c['source']) if c['cell_type']=='markdown' else '```python\n' + ''.join(c['source']) + '\n```'
       for c in cells if c['cell_type']=='markdown' or not ''.join(c['source']).startswith('#| hide')]
open('README.md', 'w').write('\n\n'.join(out) + '\n')
endef
export README_PY

clean-demo:
	rm -rf $(DEMO) $(RARE)
