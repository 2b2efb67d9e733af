"""`al-train --processes 2` through Accelerate, on CPU processes (gloo): one run row, one model file and the whole pool scored, by rank 0;
at the frozen rung the predictions of one process; the tail and full recipes train data-parallel; bad input gets a clear error."""
import json, os, shutil, sqlite3, subprocess, sys
from pathlib import Path
import numpy as np, pytest

BIN = Path(sys.executable).parent
pytest.importorskip('accelerate')

def run(*args, env=None, ok=True):
    r = subprocess.run([str(o) for o in args], capture_output=True, text=True, env=env)
    if ok: assert r.returncode==0, r.stdout+r.stderr
    return r

def rows(db, q, args=()): return sqlite3.connect(db).execute(q, args).fetchall()

@pytest.fixture(scope='module')
def project(tmp_path_factory):
    "30 patients, 96 px thumbnails, 60 labels (fewer than the tail recipe's ladder: its frozen rung)"
    from active_learn.demo import make_demo
    d = tmp_path_factory.mktemp('acc')
    src, truth = make_demo(d/'demo', n_patients=30, size=256, n_workers=2)
    run(BIN/'al-ingest', src, '--project', d/'proj', '--thumb-size', '96', '--workers', '2')
    run(BIN/'al-demo-label', '--project', d/'proj', '--truth', truth, '--n', '60')
    return d/'proj'

TRAIN = ('--epochs', '2', '--size', '96', '--bs', '16')
PRED_Q = 'select image_id, biopsy_tool, mag_view from preds where run_id=? order by image_id'

def check_run(p, rid, processes=2):
    "Run `rid` recorded once, done, with one model file and a prediction for every non-hold-out image"
    db = p/'labels.db'
    (r,) = rows(db, 'select status, model_file, bs, settings from runs where id=?', [rid])
    assert r[0]=='done' and r[1]==f'models/run-{rid}.pth', r
    s = json.loads(r[3])
    if processes>1: assert s['distributed']['processes']==processes and s['distributed']['backend']=='gloo' and r[2]==16, s
    assert sorted(o.name for o in (p/'models').glob(f'run-{rid}*')) == [f'run-{rid}{o}' for o in ('-emb.npy','-ids.npy','.onnx','.pth')]
    pool = [o for o, in rows(db, "select id from images where split!='test' order by id")]
    assert [o for o, in rows(db, 'select image_id from preds where run_id=? order by image_id', [rid])]==pool
    assert np.load(p/'models'/f'run-{rid}-ids.npy').tolist()==pool and len(np.load(p/'models'/f'run-{rid}-emb.npy'))==len(pool)
    return np.array(rows(db, PRED_Q, [rid]))

def test_frozen_rung(project, tmp_path):
    """Two processes, then one, on copies of the project: one run row each, and the same predictions. Each of the two processes
    takes half the batch and one thread; one process with the same batch and threads gives the same numbers, bit for bit"""
    one, two = tmp_path/'one', tmp_path/'two'
    shutil.copytree(project, one); shutil.copytree(project, two)
    r = run(BIN/'al-train', '--project', two, '--processes', '2', *TRAIN)
    assert 'Run 1 done' in r.stdout and rows(two/'labels.db', 'select count(*) from runs')==[(1,)], r.stdout+r.stderr
    p2 = check_run(two, 1)
    assert json.loads(rows(two/'labels.db', 'select settings from runs')[0][0])['rung']=='frozen'
    run(BIN/'al-train', '--project', one, *TRAIN[:-1], '8', env=os.environ|dict(OMP_NUM_THREADS='1'))
    p1 = check_run(one, 1, processes=1)
    assert (p1[:,0]==p2[:,0]).all()
    np.testing.assert_allclose(p1[:,1:], p2[:,1:], atol=1e-6)
    assert not [o for o in Path(os.environ.get('TMPDIR', '/tmp')).glob('al-rank*')]

@pytest.mark.parametrize('opts', [('--ladder-labels', '10'), ('--recipe', 'full')], ids=['tail', 'full'])
def test_trains_distributed(project, tmp_path, opts):
    "The tail rung and the full recipe fit a Learner in two processes (DistributedDataParallel over gloo)"
    p = tmp_path/'p'; shutil.copytree(project, p)
    r = run(BIN/'al-train', '--project', p, '--processes', '2', *TRAIN, *opts)
    assert rows(p/'labels.db', 'select count(*) from runs')==[(1,)], r.stdout+r.stderr
    check_run(p, 1)
    s = json.loads(rows(p/'labels.db', 'select settings from runs')[0][0])
    # a tail that underfits its labels is set aside for the frozen head after training (`keep_tail`): it was still fit
    assert s['recipe']==('full' if 'full' in opts else 'tail') and (s.get('rung', 'full')!='frozen' or 'underfit' in s), s
    m = json.loads(rows(p/'labels.db', 'select metrics from runs')[0][0])
    assert len(m)==2 and all(np.isfinite(o['train_loss']) for o in m), m

def test_bad_input(project, tmp_path):
    r = run(BIN/'al-train', '--project', project, '--processes', '0', ok=False)
    assert r.returncode==1 and '--processes must be at least 1, got 0' in r.stderr, r.stderr
    r = run(BIN/'al-train', '--project', project, env=os.environ|dict(WORLD_SIZE='2'), ok=False)
    assert r.returncode==1 and 'al-train --processes N' in r.stderr, r.stderr
    # too few labels: one message before any process starts
    run(BIN/'al-ingest', project.parent/'demo'/'dicom', '--project', tmp_path/'empty', '--thumb-size', '64', '--workers', '2')
    r = run(BIN/'al-train', '--project', tmp_path/'empty', '--processes', '2', ok=False)
    assert r.returncode==1 and r.stderr.count('labeled image')==1, r.stderr   # one message, not one per process
    assert rows(project/'labels.db', 'select count(*) from runs')==[(0,)]
