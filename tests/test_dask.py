"""`al-ingest`, `al-predict` and `al-classify` on a real Dask cluster (a `dask scheduler` and two `dask worker` processes on 127.0.0.1)
give the database rows of the local path, and a worker killed in the middle of `al-classify` leaves no file missing or doubled."""
import os, shutil, signal, socket, sqlite3, subprocess, sys, time
from pathlib import Path
import numpy as np, pandas as pd, pytest

BIN = Path(sys.executable).parent
distributed = pytest.importorskip('distributed')

def free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def start(*args, log):
    "A process in its own group, so that it and its children can be killed together"
    return subprocess.Popen([str(BIN/'dask'), *args], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

def stop(p):
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGKILL); p.wait()

@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    d = tmp_path_factory.mktemp('dask')
    addr = f'tcp://127.0.0.1:{free_port()}'
    log = open(d/'cluster.log', 'wb')
    procs = [start('scheduler', '--host', '127.0.0.1', '--port', addr.rsplit(':',1)[1], '--no-dashboard', log=log)]
    for _ in range(2): procs.append(start('worker', addr, '--nworkers', '1', '--nthreads', '1', '--no-dashboard', '--host', '127.0.0.1',
                                          '--local-directory', str(d), log=log))
    c = None
    for _ in range(60):
        try: c = distributed.Client(addr, timeout=2, set_as_default=False); break
        except OSError: time.sleep(0.5)
    assert c is not None, (d/'cluster.log').read_text()
    c.wait_for_workers(2, timeout=60); c.close()
    yield addr, procs
    for p in procs: stop(p)

@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    from active_learn.demo import make_demo
    folder, _ = make_demo(tmp_path_factory.mktemp('demo'), n_patients=12, size=256, n_workers=2)   # enough patients to train on
    return folder

def run(*args, env=None):
    r = subprocess.run([str(o) for o in args], capture_output=True, text=True, env=env)
    assert r.returncode==0, r.stdout+r.stderr
    return r

def rows(db, q): return sqlite3.connect(db).execute(q).fetchall()

IMG_Q = 'select id, sha1, frame, patient_id, study_id, split, thumb, width, height from images order by id'

def test_ingest(cluster, demo, tmp_path):
    addr,_ = cluster
    run(BIN/'al-ingest', demo, '--project', tmp_path/'local', '--workers', '2')
    r = run(BIN/'al-ingest', demo, '--project', tmp_path/'dask', '--scheduler', addr)
    loc, dsk = rows(tmp_path/'local'/'labels.db', IMG_Q), rows(tmp_path/'dask'/'labels.db', IMG_Q)
    assert len(loc)>=20 and loc==dsk, r.stdout
    for o in dsk[:5]: assert (tmp_path/'dask'/o[6]).read_bytes()==(tmp_path/'local'/o[6]).read_bytes()
    # the scheduler can come from the environment; a rerun adds nothing
    r = run(BIN/'al-ingest', demo, '--project', tmp_path/'dask', env=os.environ|dict(DASK_SCHEDULER_ADDRESS=addr))
    assert f'0 new images' in r.stdout and rows(tmp_path/'dask'/'labels.db', IMG_Q)==dsk, r.stdout
    assert not list((tmp_path/'dask').glob('.al-shared-*'))

def test_unshared(cluster, tmp_path):
    from active_learn.cluster import connect, check_shared
    from active_learn.core import ProjectError
    c = connect(cluster[0])
    try:
        check_shared(c, tmp_path, [tmp_path])
        with pytest.raises(ProjectError, match='nowhere.dcm'): check_shared(c, tmp_path, [tmp_path/'nowhere.dcm'])
    finally: c.close()
    r = subprocess.run([BIN/'al-ingest', tmp_path, '--project', tmp_path/'p', '--scheduler', 'tcp://127.0.0.1:1'], capture_output=True, text=True)
    assert r.returncode==1 and "Can't reach the Dask scheduler at tcp://127.0.0.1:1" in r.stderr, r.stderr

PRED_Q = 'select run_id, image_id, biopsy_tool, mag_view, uncert from preds order by run_id, image_id'

def test_predict(cluster, demo, tmp_path):
    "A run trained here scores the pool on the workers as on local processes: same images, probabilities to 1e-5, same embeddings files"
    addr,_ = cluster
    loc, dsk = tmp_path/'local', tmp_path/'dask'
    run(BIN/'al-ingest', demo, '--project', loc, '--workers', '2')
    run(BIN/'al-demo-label', '--project', loc, '--truth', demo.parent/'demo_truth.csv')
    run(BIN/'al-train', '--project', loc, '--epochs', '1', '--size', '96', '--bs', '16', '--no-predict')
    shutil.copytree(loc, dsk)
    run(BIN/'al-predict', '--project', loc)
    r = run(BIN/'al-predict', '--project', dsk, '--scheduler', addr)
    a, b = rows(loc/'labels.db', PRED_Q), rows(dsk/'labels.db', PRED_Q)
    n_pool = rows(loc/'labels.db', "select count(*) from images where split!='test'")[0][0]
    assert len(a)==len(b)==n_pool>=20 and [o[:2] for o in a]==[o[:2] for o in b], r.stdout
    np.testing.assert_allclose(np.array(a)[:,2:], np.array(b)[:,2:], atol=1e-5)
    for o in ('emb','ids'):
        x, y = [np.load(p/'models'/f'run-1-{o}.npy') for p in (loc,dsk)]
        assert x.dtype==y.dtype and x.shape==y.shape and np.abs(x.astype(float)-y).max()<=1e-3, o
    assert not list((dsk/'models').glob('.al-shared-*')) and not list((dsk/'models').glob('.*.tmp.npy'))
    # clear errors, nothing stored: no scheduler there, an engine the workers don't run
    for args, msg in [(('--scheduler', 'tcp://127.0.0.1:1'), "Can't reach the Dask scheduler at tcp://127.0.0.1:1"),
                      (('--scheduler', addr, '--engine', 'torch'), 'workers score with ONNX Runtime')]:
        r = subprocess.run([BIN/'al-predict', '--project', dsk, *args], capture_output=True, text=True)
        assert r.returncode==1 and msg in r.stderr, r.stderr
    assert rows(dsk/'labels.db', PRED_Q)==b

RES_Q = 'select id, path, sha1, frame, study_id, biopsy_tool, mag_view from results order by id'

def check_same(a, b, ids=True):
    "Same rows, probabilities to 1e-5 (and the same ids when `ids`)"
    a,b = [sorted(o, key=lambda r: r[1:4]) if not ids else o for o in (a,b)]
    assert len(a)==len(b)>0
    for x,y in zip(a,b):
        assert (x[:5] if ids else x[1:5])==(y[:5] if ids else y[1:5])
        np.testing.assert_allclose(x[5:], y[5:], atol=1e-5)

def test_classify(cluster, demo, bundle, tmp_path):
    addr,_ = cluster
    # the cluster path writes files in input order; the local one as its workers finish them, so result ids are compared by content
    run(BIN/'al-classify', demo, '--model', bundle, '--out', tmp_path/'local.db', '--csv', tmp_path/'local.csv', '--workers', '1')
    r = run(BIN/'al-classify', demo, '--model', bundle, '--out', tmp_path/'dask.db', '--csv', tmp_path/'dask.csv', '--scheduler', addr)
    check_same(rows(tmp_path/'local.db', RES_Q), rows(tmp_path/'dask.db', RES_Q), ids=False)
    loc, dsk = [pd.read_csv(tmp_path/o).filter(regex='^(?!.*_images$)') for o in ('local.csv','dask.csv')]
    pd.testing.assert_frame_equal(loc, dsk, atol=1e-4)
    r = run(BIN/'al-classify', demo, '--model', bundle, '--out', tmp_path/'dask.db', '--csv', tmp_path/'dask.csv', '--scheduler', addr)
    assert '0 images scored' in r.stdout, r.stdout

def test_classify_worker_killed(cluster, demo, bundle, tmp_path):
    "Runs last: it kills one of the two workers"
    addr, procs = cluster
    run(BIN/'al-classify', demo, '--model', bundle, '--out', tmp_path/'local.db', '--csv', tmp_path/'local.csv', '--workers', '1')
    out = tmp_path/'dask.db'
    p = subprocess.Popen([BIN/'al-classify', demo, '--model', bundle, '--out', out, '--csv', tmp_path/'dask.csv', '--bs', '1',
                          '--scheduler', addr], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    n_files = len(rows(tmp_path/'local.db', 'select path from files'))
    killed_at = None
    for _ in range(600):
        if out.exists():
            try: n = rows(out, "select count(*) from files where status='done'")[0][0]
            except sqlite3.OperationalError: n = 0
            if n>=2: killed_at = n; stop(procs[2]); break
        assert p.poll() is None, p.stdout.read()
        time.sleep(0.05)
    assert killed_at is not None and killed_at<n_files, killed_at
    txt = p.communicate(timeout=300)[0]
    assert p.returncode==0, txt
    files = rows(out, "select path, status from files")
    assert len(files)==n_files==len({o for o,_ in files}) and {s for _,s in files}=={'done'}, files
    res = rows(out, RES_Q)
    assert len(res)==len({(o[2],o[3]) for o in res})
    check_same(rows(tmp_path/'local.db', RES_Q), res, ids=False)
