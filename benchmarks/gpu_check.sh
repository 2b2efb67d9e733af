#!/usr/bin/env bash
# GPU checks on one NVIDIA GPU, each beside the CPU figure measured in the same run on the same data:
#   1. al-train's fp16 path (fastai `to_fp16` on CUDA): the run records mixed_precision=true and its validation AUC
#   2. pool scoring: al-predict --engine torch on the GPU (autocast fp16) against --engine onnx (ONNX Runtime, CPU)
#   3. al-classify images/s with --device cuda (the bundle's torch.export program) against --device cpu (ONNX Runtime),
#      and the largest difference between their probabilities
# No GPU was available where this was written: it has been run on a CPU machine only up to the first check.
#   bash benchmarks/gpu_check.sh [WORKDIR] [N_PATIENTS]   (defaults /tmp/gpu_check, 60); about 5 minutes on an H100-class GPU
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-$PWD/.venv/bin/python}; BIN=$(dirname "$PY")
W=${1:-/tmp/gpu_check}; NP=${2:-60}
rm -rf "$W"; mkdir -p "$W"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || { echo "gpu_check: no NVIDIA GPU (nvidia-smi failed)"; exit 1; }
"$PY" -c "import torch,sys; ok=torch.cuda.is_available(); print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0) if ok else 'NOT AVAILABLE'); sys.exit(0 if ok else 1)"
secs() { local t=$(date +%s.%N); "$@" > "$W/last.log" 2>&1 || { cat "$W/last.log"; exit 1; }; awk "BEGIN{print $(date +%s.%N) - $t}"; }

echo "== data: al-demo ($NP patients, 1600 px), ingest, label train+valid from the ground truth"
"$BIN/al-demo" "$W/demo" --n-patients "$NP" --size 1600 > /dev/null
"$BIN/al-ingest" "$W/demo/dicom" --project "$W/proj" | tail -1
"$BIN/al-demo-label" --project "$W/proj" --truth "$W/demo/demo_truth.csv" > /dev/null
N=$("$PY" -c "import sqlite3; print(sqlite3.connect('$W/proj/labels.db').execute(\"select count(*) from images where split!='test'\").fetchone()[0])")

echo "== 1. training (tail recipe, 10 epochs) on the GPU, fp16"
t=$(secs "$BIN/al-train" --project "$W/proj" --no-predict)
"$PY" - "$W/proj" "$t" <<'EOF'
import sqlite3, json, sys
r = sqlite3.connect(f'{sys.argv[1]}/labels.db').execute('select id, settings, best, status from runs order by id desc').fetchone()
s, b = json.loads(r[1]), json.loads(r[2] or '{}')
print(f"run {r[0]} {r[3]}: device {s.get('device')}, mixed_precision {s.get('mixed_precision')}, {float(sys.argv[2]):.1f} s; "
      + ', '.join(f'{k} {v:.3f}' for k,v in b.items() if k.startswith('auc_') and v is not None))
assert s.get('mixed_precision') and r[3]=='done', 'the GPU run did not use fp16'
EOF

echo "== 2. pool scoring, $N images: PyTorch on the GPU against ONNX Runtime on the CPU"
tg=$(secs "$BIN/al-predict" --project "$W/proj" --engine torch)
"$PY" -c "import sqlite3; c=sqlite3.connect('$W/proj/labels.db'); import json; open('$W/preds_gpu.json','w').write(json.dumps(c.execute('select image_id, biopsy_tool, mag_view from preds order by image_id').fetchall()))"
tc=$(CUDA_VISIBLE_DEVICES= secs "$BIN/al-predict" --project "$W/proj" --engine onnx)
"$PY" - "$W" "$N" "$tg" "$tc" <<'EOF'
import sqlite3, json, sys, numpy as np
w,n,tg,tc = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
g = np.array(json.load(open(f'{w}/preds_gpu.json')))
c = np.array(sqlite3.connect(f'{w}/proj/labels.db').execute('select image_id, biopsy_tool, mag_view from preds order by image_id').fetchall())
print(f"GPU torch {n/tg:.1f} images/s, CPU onnx {n/tc:.1f} images/s ({tc/tg:.1f}x), command start-up included; "
      f"largest probability difference {np.abs(g[:,1:]-c[:,1:]).max():.4f} (fp16 autocast)")
EOF

echo "== 3. al-classify on the demo archive: --device cuda against --device cpu"
"$BIN/al-export" --project "$W/proj" --dest "$W/bundle" > /dev/null
for d in cuda cpu; do
  "$BIN/al-classify" "$W/demo/dicom" --model "$W/bundle" --out "$W/res-$d.db" --csv "$W/st-$d.csv" --device $d | head -1
done
"$PY" - "$W" <<'EOF'
import sqlite3, sys, numpy as np
w = sys.argv[1]
q = 'select sha1, frame, biopsy_tool, mag_view from results order by sha1, frame'
g, c = [sqlite3.connect(f'{w}/res-{d}.db').execute(q).fetchall() for d in ('cuda','cpu')]
assert [o[:2] for o in g]==[o[:2] for o in c]
print(f"largest probability difference cuda vs cpu: {np.abs(np.array([o[2:] for o in g])-np.array([o[2:] for o in c])).max():.5f}")
EOF
echo "CPU figures in README (2 cores): pool scoring 161 images/s (ONNX Runtime); al-classify 0.7x its decoding floor"
