"""A real PACS: Orthanc with its DICOMweb plugin (`active_learn.dicomweb.orthanc`) holding the demo studies, driven through
the commands a user runs: al-ingest and al-classify with --dicomweb, --send-kos, a run killed half-way, and the
errors of a wrong password, a closed port and a server that answers HTML. Skipped, saying which Debian packages are
missing, where Orthanc is not installed."""
import io, json, os, signal, sqlite3, subprocess, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
import numpy as np, pandas as pd, pydicom, pytest
from PIL import Image
from active_learn.dicomweb import orthanc, OrthancMissing, Server, search, retrieve, kos_references, AUTH_ENV, _free_port

BIN = Path(sys.executable).parent
COLS = 'sha1, frame, patient_id, study_id, series_uid, sop_uid, laterality, view_position, split, width, height, header, thumb'

@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    from active_learn.demo import make_demo
    folder,_ = make_demo(tmp_path_factory.mktemp('demo'), n_patients=6, size=256)
    return folder, sorted(o for o in folder.rglob('*') if o.is_file())

@pytest.fixture(scope='module')
def pacs(demo):
    try: ctx = orthanc()
    except OrthancMissing as e: pytest.skip(str(e))
    try:
        with ctx as o:
            o.upload(demo[1])
            yield o
    except OrthancMissing as e: pytest.skip(str(e))

def run(*args, auth=None, **kw):
    env = {k:v for k,v in os.environ.items() if k!=AUTH_ENV}
    if auth: env[AUTH_ENV] = auth
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env, timeout=600, **kw)

def rows(proj): return sorted(sqlite3.connect(Path(proj)/'labels.db').execute(f'select {COLS} from images').fetchall())

def test_ingest_same_as_disk(pacs, demo, tmp_path):
    folder, fns = demo
    t = time.time(); r = run(BIN/'al-ingest', folder, '--project', tmp_path/'disk', '--thumb-size', 256); t_disk = time.time()-t
    assert r.returncode==0, r.stderr
    t = time.time(); r = run(BIN/'al-ingest', '--dicomweb', pacs.url, '--project', tmp_path/'pacs', '--thumb-size', 256, auth=pacs.auth); t_pacs = time.time()-t
    assert r.returncode==0, r.stderr
    assert f'{len(fns)} fetched from the PACS' in r.stdout, r.stdout
    a, b = rows(tmp_path/'disk'), rows(tmp_path/'pacs')
    assert a==b and len(a)>=len(fns)
    for o in a: assert np.array_equal(np.asarray(Image.open(tmp_path/'disk'/o[-1])), np.asarray(Image.open(tmp_path/'pacs'/o[-1])))
    print(f"\n{len(fns)} instances: al-ingest from disk {t_disk:.1f} s, over DICOMweb {t_pacs:.1f} s")
    r = run(BIN/'al-ingest', '--dicomweb', pacs.url, '--project', tmp_path/'pacs', auth=pacs.auth)
    assert r.returncode==0 and 'fetched' not in r.stdout and f'0 new images from 0 new files, {len(fns)} already' in r.stdout, r.stdout
    # the password is nowhere in the project
    assert not any(pacs.password.encode() in p.read_bytes() for p in (tmp_path/'pacs').rglob('*') if p.is_file())

def test_filters_and_keep_dicom(pacs, demo, tmp_path):
    r = run(BIN/'al-ingest', '--dicomweb', pacs.url, '--dicomweb-auth', pacs.auth, '--project', tmp_path/'p', '--limit', 1,
            '--study-date', '19000101-20991231', '--keep-dicom', tmp_path/'keep')
    assert r.returncode==0, r.stderr
    kept = list((tmp_path/'keep').rglob('*.dcm'))
    ids = {o[3] for o in rows(tmp_path/'p')}
    assert len(ids)==1 and len(kept)==len({o[5] for o in rows(tmp_path/'p')})
    r = run(BIN/'al-ingest', '--dicomweb', pacs.url, '--project', tmp_path/'q', '--modality', 'CT', auth=pacs.auth)
    assert r.returncode==0 and '0 files' in r.stdout, r.stdout
    pid = pydicom.dcmread(demo[1][0], stop_before_pixels=True).PatientID
    r = run(BIN/'al-ingest', '--dicomweb', pacs.url, '--project', tmp_path/'r', '--patient-id', pid, '--pseudonymise', tmp_path/'key', auth=pacs.auth)
    assert r.returncode==0, r.stderr
    got = sqlite3.connect(tmp_path/'r'/'labels.db').execute('select distinct patient_id, path from images').fetchall()
    assert len({o[0] for o in got})==1 and got[0][0].startswith('anon-') and all(o[1] is None for o in got)

def test_killed_and_resumed(pacs, demo, tmp_path):
    proj = tmp_path/'p'
    args = [BIN/'al-ingest', '--dicomweb', pacs.url, '--project', proj, '--batch', 2, '--workers', 1]
    env = dict(os.environ, **{AUTH_ENV: pacs.auth})
    p = subprocess.Popen([str(a) for a in args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    n, t0 = 0, time.time()
    while p.poll() is None and time.time()-t0<120:
        try: n = sqlite3.connect(proj/'labels.db').execute('select count(*) from images').fetchone()[0]
        except sqlite3.Error: n = 0
        if n>=4: break
        time.sleep(0.02)
    os.killpg(p.pid, signal.SIGKILL); p.wait()
    total = len(rows(proj))
    assert 0<total<len(demo[1]), f"killed after {total} images: not half-way"
    r = run(*args, auth=pacs.auth)
    assert r.returncode==0, r.stderr
    got = sqlite3.connect(proj/'labels.db').execute('select sop_uid, frame, count(*) from images group by sop_uid, frame').fetchall()
    assert all(o[2]==1 for o in got)
    assert {o[0] for o in got}=={o['sop'] for o in search(Server(pacs.url, pacs.auth))}
    assert len(got)==len(rows(proj))

class HTMLServer(BaseHTTPRequestHandler):
    "Answers every request with an HTML page (a proxy's login page, say), or QIDO with JSON and WADO with HTML when `.qido_ok`"
    qido_ok = False
    def do_GET(self):
        if self.qido_ok and '/instances/' not in self.path:
            uid = lambda t,v: {t: dict(vr='UI', Value=[v])}
            body = json.dumps([uid('0020000D','1.2.3') | uid('0020000E','1.2.3.4') | uid('00080018','1.2.3.4.5') | uid('00080016','1.2.840.10008.5.1.4.1.1.1.2')]).encode()
            ct = 'application/dicom+json'
        else: body, ct = b'<html><body>Please log in</body></html>', 'text/html'
        self.send_response(200); self.send_header('Content-Type', ct); self.send_header('Content-Length', str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass

@pytest.fixture
def html_server():
    srv = ThreadingHTTPServer(('127.0.0.1', 0), type('H', (HTMLServer,), {}))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()

def check_error(r, server, secret, *paths):
    err = r.stderr.strip()
    assert r.returncode==1, (r.returncode, r.stdout, r.stderr)
    assert len(err.splitlines())==1 and server in err and secret not in err and secret not in r.stdout, err
    for p in paths: assert not Path(p).exists(), f"{p} was written"
    return err

@pytest.mark.parametrize('cmd', ['al-ingest', 'al-classify'])
def test_errors(cmd, pacs, bundle, html_server, tmp_path):
    out = ['--project', tmp_path/'p'] if cmd=='al-ingest' else ['--model', bundle, '--out', tmp_path/'r.db', '--csv', tmp_path/'s.csv']
    made = [tmp_path/'p'] if cmd=='al-ingest' else [tmp_path/'r.db', tmp_path/'s.csv']
    secret = 'Sup3rSecretPw'
    e = check_error(run(BIN/cmd, '--dicomweb', pacs.url, *out, auth=f'{pacs.user}:{secret}'), pacs.url, secret, *made)
    assert 'refused the credentials' in e
    e = check_error(run(BIN/cmd, '--dicomweb', pacs.url, *out, '--dicomweb-auth', f'bearer:{secret}'), pacs.url, secret, *made)
    closed = f'http://127.0.0.1:{_free_port()}/dicom-web'
    e = check_error(run(BIN/cmd, '--dicomweb', closed, *out, auth=f'u:{secret}'), closed, secret, *made)
    assert "Can't reach" in e and 'connection refused' in e
    url = f'http://127.0.0.1:{html_server.server_address[1]}/dicom-web'
    e = check_error(run(BIN/cmd, '--dicomweb', url, *out, auth=f'u:{secret}'), url, secret, *made)
    assert 'did not answer with DICOM' in e and 'text/html' in e
    e = check_error(run(BIN/cmd, '--dicomweb', f'http://u:{secret}@127.0.0.1:1/x', *out), 'http://127.0.0.1', secret, *made)
    assert '--dicomweb-auth' in e
    # QIDO answers, WADO sends HTML: the run stops with one line, and nothing is stored
    html_server.RequestHandlerClass.qido_ok = True
    r = run(BIN/cmd, '--dicomweb', url, *out, auth=f'u:{secret}')
    assert r.returncode==1 and url in r.stderr and 'text/html' in r.stderr and secret not in r.stderr and len(r.stderr.strip().splitlines())==1, r.stderr
    if cmd=='al-ingest':
        db = sqlite3.connect(tmp_path/'p'/'labels.db')
        assert db.execute('select count(*) from images').fetchone()[0]==0 and db.execute('select count(*) from bad_files').fetchone()[0]==0
        assert not list((tmp_path/'p'/'thumbs').rglob('*.png'))
    else: assert sqlite3.connect(tmp_path/'r.db').execute('select count(*) from results').fetchone()[0]==0

def test_classify_and_send_kos(pacs, demo, bundle, tmp_path):
    out = tmp_path/'r.db'
    args = [BIN/'al-classify', '--dicomweb', pacs.url, '--model', bundle, '--out', out, '--csv', tmp_path/'s.csv']
    r = run(*args, '--kos-dir', tmp_path/'dry', auth=pacs.auth)
    assert r.returncode==0, r.stderr
    from active_learn.classify import flagged_by_study, results_db
    fl = flagged_by_study(results_db(out))
    assert fl and len(list((tmp_path/'dry').glob('*.dcm')))==len(fl)
    srv = Server(pacs.url, pacs.auth)
    assert search(srv, modality='KO')==[], 'a dry run sends nothing'
    r = run(*args, '--send-kos', pacs.url, auth=pacs.auth)
    assert r.returncode==0 and f'{len(fl)} documents sent' in r.stdout, r.stdout+r.stderr
    kos = [pydicom.dcmread(io.BytesIO(retrieve(srv, o))) for o in search(srv, modality='KO')]
    assert len(kos)==len(fl)
    for ds in kos:
        assert set(kos_references(ds))=={o['sop'] for o in fl[ds.StudyInstanceUID]}
        assert ds.ConceptNameCodeSequence[0].CodeValue=='113000'
        note = next(o.TextValue for o in ds.ContentSequence if o.ValueType=='TEXT')
        assert bundle.name in note and all(o['sop'] in note and f"{o['label']} {o['prob']:.3f}" in note for o in fl[ds.StudyInstanceUID]), note
    r = run(*args, '--send-kos', pacs.url, auth=pacs.auth)
    assert r.returncode==0 and '0 documents sent' in r.stdout and f'{len(fl)} sent before' in r.stdout, r.stdout
    assert len(search(srv, modality='KO'))==len(fl)
    assert sqlite3.connect(out).execute('select count(*) from kos_sent').fetchone()[0]==len(fl)
    assert pacs.password.encode() not in out.read_bytes()
