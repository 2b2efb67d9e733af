"""Every `al-*` command turns a bad argument into a one-line message on stderr and exit status 1 (fastcore's `call_parse` does it
for a `CliError`, which `ProjectError` and the other user-facing errors are), with no traceback."""
import subprocess, sys, tomllib
from pathlib import Path
import pytest

ROOT = Path(__file__).parent.parent
BIN = Path(sys.executable).parent
SCRIPTS = tomllib.loads((ROOT/'pyproject.toml').read_text())['project']['scripts']

def bad_args(tmp):
    "A bad argument for each command, and a piece of the message it must print"
    nothing = str(tmp/'nothing')
    return {
        'al-ingest':     ([str(tmp/'no-such-folder'), '--project', str(tmp/'p')], 'no-such-folder'),
        'al-demo':       ([str(tmp/'d'), '--difficulty', 'extreme'], 'Unknown difficulty'),
        'al-demo-label': (['--project', nothing], '--truth'),
        'al-train':      (['--project', nothing], 'No project at'),
        'al-predict':    (['--project', nothing], 'No project at'),
        'al-queue':      (['--project', nothing], 'No project at'),
        'al-evaluate':   (['--project', nothing], 'No project at'),
        'al-label':      (['--project', nothing], 'No project at'),
        'al-reader':     (['list', '--project', nothing], 'No project at'),
        'al-simulate':   (['--project', nothing, '--truth', str(tmp/'t.csv')], 'No project at'),
        'al-export':     (['--project', nothing], 'No project at'),
        'al-classify':   ([str(tmp), '--model', str(tmp/'no-bundle')], 'no-bundle'),
    }

def test_every_command_is_covered(tmp_path): assert set(bad_args(tmp_path))==set(SCRIPTS)

@pytest.mark.parametrize('cmd', sorted(SCRIPTS))
def test_bad_argument(cmd, tmp_path):
    args,msg = bad_args(tmp_path)[cmd]
    r = subprocess.run([str(BIN/cmd), *args], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    err = r.stderr.strip()
    assert r.returncode==1, (r.returncode, r.stdout, err)
    assert 'Traceback' not in err and len(err.splitlines())==1, err
    assert msg in err, err

def test_label_strategy(tmp_path):
    "`al-label --strategy` refuses a typo before serving, and the project keeps the strategy it had"
    from active_learn.test_utils import toy_project
    from active_learn.queues import set_strategy, project_strategy
    db = toy_project(tmp_path/'p'); set_strategy(db, 'typiclust@0.5'); db.close()
    r = subprocess.run([str(BIN/'al-label'), '--project', str(tmp_path/'p'), '--strategy', 'typiclus'], capture_output=True, text=True, timeout=300)
    assert r.returncode==1 and 'Unknown strategies' in r.stderr and 'Traceback' not in r.stderr, r.stderr
    from active_learn.core import Project
    assert project_strategy(Project(tmp_path/'p'))=='typiclust@0.5'
