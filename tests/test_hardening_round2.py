"""Hardening, second round: one test for each finding of the second probe of the label server and ingest (F1-F16).
Each test reproduces the finding as the probe did, and fails on the code before the fix (checked in a scratch worktree)."""
import asyncio, io, json, os, shutil, socket, sqlite3, subprocess, sys, time
from pathlib import Path
import httpx, numpy as np, pydicom, pytest
from PIL import Image
from starlette.testclient import TestClient
from test_server_hardening import _free_port, _proc
from test_hostile import png_declaring, good_dicom, run, ingest_peak

BIN = Path(sys.executable).parent
LABEL = dict(biopsy_tool=1, mag_view=0)

def _events(proj, img):
    "Label events of image `img`, read by a fresh connection once every server is stopped"
    con = sqlite3.connect(proj/'labels.db')
    try: return con.execute("select count(*) from events where image_id=? and action='label'", [img]).fetchone()[0]
    finally: con.close()

def _label(port, img, tab='t1'):
    body = dict(queue='learn', tab=tab, id=img, rev=0, values=LABEL, want=0)
    return httpx.post(f'http://127.0.0.1:{port}/label', json=body, timeout=30)

@pytest.fixture
def linked(tmp_path):
    "The probe's archive: a source ingested through a link, which is then re-pointed at the project's own database"
    arch, proj = tmp_path/'ARCH', tmp_path/'PH'
    real = good_dicom(arch/'real.dcm', 'P1', 1)
    (arch/'P1'/'S1').mkdir(parents=True)
    link = arch/'P1'/'S1'/'evil.dcm'; link.symlink_to(real)
    r = run(BIN/'al-ingest', arch/'P1', '--project', proj, '--workers', 1)
    assert r.returncode==0, r.stdout+r.stderr
    link.unlink(); link.symlink_to(proj/'labels.db')
    return proj

def _serve(proj, *extra, env=None):
    port = _free_port()
    args = [BIN/'al-label', '--project', proj, '--port', port, *extra]
    return port, _proc([str(o) for o in args], f'http://127.0.0.1:{port}/stats.json', env=env)

def test_f1_zoom_of_the_database_loses_no_label(linked):
    "F1, first layer: the zoom refuses the database as a source, so its locks hold, and a label given after another process closed the database survives the server"
    port, srv = _serve(linked)
    with srv:
        full = httpx.get(f'http://127.0.0.1:{port}/full/1')
        th = sqlite3.connect(linked/'labels.db').execute('select thumb from images where id=1').fetchone()[0]
        (linked/th).unlink(); os.link(linked/'labels.db', linked/th)   # a hard link in thumbs/, served by /img
        img = httpx.get(f'http://127.0.0.1:{port}/img/1')
        r = run(BIN/'al-reader', 'list', '--project', linked)   # a second process opens and closes the database
        assert r.returncode==0, r.stderr
        lab = _label(port, 1)
    assert _events(linked, 1)==1 or lab.status_code!=200, 'an acknowledged label was lost'
    assert lab.status_code==200, lab.text
    assert full.status_code==410 and "project's own database" in full.json()['error'], (full.status_code, full.text)
    assert img.status_code==404, img.status_code

def test_f1_unlinked_wal_turns_writes_into_503(linked):
    "F1, second layer: a WAL unlinked behind the server's back makes every write a 503 that names the cause, never a 200"
    port, srv = _serve(linked)
    with srv:
        os.unlink(linked/'labels.db-wal')   # what the other process did once the locks were gone
        r = _label(port, 1)
        assert r.status_code==503 and 'write-ahead log' in r.json()['error'], (r.status_code, r.text)
        assert r.headers['x-frame-options']=='DENY'
        assert httpx.get(f'http://127.0.0.1:{port}/stats.json').status_code==200, 'reads go on'

def test_f2_forwarded_for_does_not_escape_the_lockout(tmp_path):
    "F2: with no --behind-proxy, X-Forwarded-For can't choose the address that wrong passwords count against"
    from active_learn.test_utils import tiny_project
    tiny_project(tmp_path/'p', n=4)
    env = dict(os.environ, AL_PASSWORD='the-right-one')
    port, srv = _serve(tmp_path/'p', env=env)
    with srv:
        codes = [httpx.get(f'http://127.0.0.1:{port}/stats.json', auth=('x', f'wrong{i}'), headers={'X-Forwarded-For': f'10.0.0.{i}'}).status_code
                 for i in range(25)]
    assert codes[:10]==[401]*10 and set(codes[10:])=={429}, codes

def _client(proj, accounts=False, **kw):
    from active_learn.app import make_app
    return TestClient(make_app(proj, 'ann', accounts=accounts, **kw), base_url='http://localhost', raise_server_exceptions=False)

@pytest.fixture
def accounts(tmp_path):
    from active_learn.test_utils import tiny_project
    from active_learn.readers import add_reader
    db = tiny_project(tmp_path/'p', n=6)
    for o in ('alice','bob'): add_reader(db, o, f'{o}-password')
    return tmp_path/'p', db

def test_f3_parallel_guesses_are_counted_before_they_are_checked(accounts):
    "F3: 30 wrong logins sent at once: only `max_fails` of them reach the password check, the rest get 429"
    from active_learn.app import make_app
    app = make_app(accounts[0], 'ann', accounts=True)
    async def go():
        tr = httpx.ASGITransport(app=app, client=('127.0.0.1', 5000))
        async with httpx.AsyncClient(transport=tr, base_url='http://localhost') as c:
            rs = await asyncio.gather(*[c.post('/login', json=dict(name='alice', password=f'guess{i}')) for i in range(30)])
        return [r.status_code for r in rs]
    codes = asyncio.run(go())
    assert codes.count(401)==10 and codes.count(429)==20, codes

def _login(c, name, pw):
    r = c.post('/login', json=dict(name=name, password=pw)); return r.status_code, r.cookies.get('al_session')

def test_f4_sessions_end_with_a_new_password_or_account(accounts):
    "F4: a new password for alice ends her old session; bob removed and added again does not get his old session back"
    from active_learn.readers import add_reader, remove_reader
    proj, db = accounts
    c = _client(proj, accounts=True)
    st,a = _login(c, 'alice', 'alice-password'); assert st==200
    st,b = _login(c, 'bob', 'bob-password'); assert st==200
    get = lambda tok: c.get('/stats.json', headers={'Cookie': f'al_session={tok}'}).status_code
    assert get(a)==200 and get(b)==200
    add_reader(db, 'alice', 'a-new-password')
    remove_reader(db, 'bob'); add_reader(db, 'bob', 'bob-password')
    assert get(a)==401 and get(b)==401
    st,a2 = _login(c, 'alice', 'a-new-password'); assert st==200 and get(a2)==200

def deflated_frames(fn, frames, rows, cols):
    "A deflated 16-bit DICOM of `frames` frames of `rows`x`cols`, streamed through zlib: each frame passes the per-frame limits"
    import struct, zlib
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_dataset, write_file_meta_info
    from pydicom.uid import DeflatedExplicitVRLittleEndian, generate_uid
    ds = Dataset(); ds.SOPClassUID = '1.2.840.10008.5.1.4.1.1.1.2'; ds.SOPInstanceUID = generate_uid(); ds.PatientID = 'STACK'
    ds.Modality = 'MG'; ds.Rows,ds.Columns,ds.NumberOfFrames = rows,cols,frames; ds.BitsAllocated = ds.BitsStored = 16; ds.HighBit = 15
    ds.PixelRepresentation, ds.SamplesPerPixel, ds.PhotometricInterpretation = 0, 1, 'MONOCHROME2'
    body = DicomBytesIO(); body.is_little_endian,body.is_implicit_VR = True,False; write_dataset(body, ds)
    meta = FileMetaDataset(); meta.MediaStorageSOPClassUID,meta.MediaStorageSOPInstanceUID = ds.SOPClassUID,ds.SOPInstanceUID
    meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    head = DicomBytesIO(); head.write(b'\0'*128+b'DICM'); write_file_meta_info(head, meta, enforce_standard=True)
    z, n, chunk = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS), rows*cols*frames*2, bytes(1<<22)
    with open(fn, 'wb') as f:
        f.write(head.getvalue()); f.write(z.compress(body.getvalue() + b'\xe0\x7f\x10\x00OW\0\0' + struct.pack('<I', n)))
        for i in range(0, n, len(chunk)): f.write(z.compress(chunk[:min(len(chunk), n-i)]))
        f.write(z.flush())
    return Path(fn)

def test_f5_whole_file_limit(tmp_path):
    "F5: 12 frames of 25 MP, each under the per-frame limit, are refused before decoding as too large in all, with a small peak; --max-mb raises the limit"
    (tmp_path/'src').mkdir()
    stack = deflated_frames(tmp_path/'src'/'stack.dcm', 12, 5000, 5000)
    assert stack.stat().st_size < 1_000_000
    n_bad, peak_kb = ingest_peak(stack, tmp_path/'p')
    reason, = sqlite3.connect(tmp_path/'p'/'labels.db').execute('select reason from bad_files').fetchone()
    assert n_bad==1 and reason.startswith('too large in all: 12 frame(s) of 5000x5000'), reason
    assert peak_kb < 400*1024, peak_kb
    ds = pydicom.dcmread(pydicom.data.get_testdata_file('MR_small.dcm')); ds.NumberOfFrames = 3; ds.PixelData = ds.PixelData*3
    (tmp_path/'s2').mkdir(); ds.save_as(tmp_path/'s2'/'three.dcm')
    r = run(BIN/'al-ingest', tmp_path/'s2', '--project', tmp_path/'p2', '--max-mb', 0.01)
    assert r.returncode==2 and 'too large in all' in r.stdout, r.stdout+r.stderr
    r = run(BIN/'al-ingest', tmp_path/'s2', '--project', tmp_path/'p2', '--max-mb', 1)
    assert r.returncode==0 and '3 new images' in r.stdout, r.stdout+r.stderr

def _owned(a)->int:
    "Bytes that array `a` keeps alive: its own, or those of whatever it is a view on"
    while getattr(a, 'base', None) is not None: a = a.base
    return a.nbytes if isinstance(a, np.ndarray) else len(memoryview(a).cast('B'))

def test_f6_zoom_keeps_one_frame(tmp_path):
    "F6: the zoom of one frame of a multi-frame file keeps that frame's values alone, not the whole stack"
    from active_learn.viewer import full_res
    ds = pydicom.dcmread(pydicom.data.get_testdata_file('MR_small.dcm'))
    fr = [(ds.pixel_array + 100*i).astype(ds.pixel_array.dtype) for i in range(12)]
    ds.NumberOfFrames = 12; ds.PixelData = b''.join(o.tobytes() for o in fr); ds.save_as(tmp_path/'stack.dcm')
    for i in (0, 7):
        o = full_res(tmp_path/'stack.dcm', i)
        np.testing.assert_array_equal(o['a'], fr[i])
        assert _owned(o['a']) <= fr[i].nbytes*2, (_owned(o['a']), fr[i].nbytes)   # int16 kept as stored: at most its own size (x2: float32)

def test_f7_lone_surrogate_comment(accounts):
    "F7: a comment with a lone surrogate is refused with 400; one stored before that does not break the stats pages"
    proj, db = accounts
    c = _client(proj)
    r = c.post('/comment', content=b'{"id": 1, "tab": "t1", "text": "bad \\ud800 text"}', headers={'Content-Type': 'application/json'})
    assert r.status_code==400 and 'not text' in r.json()['error'], r.text
    db['events'].insert(dict(image_id=1, annotator='ann', action='unsure', value=None, at='2026-01-01T00:00:00.000+00:00', undone=0))
    db['events'].insert(dict(image_id=1, annotator='ann', action='comment', value=json.dumps('old \ud800 one'), at='2026-01-01T00:00:01.000+00:00', undone=0))
    for u in ('/stats', '/stats.json'): assert c.get(u).status_code==200, u
    assert 'old ? one' in c.get('/stats').text

def test_f8_stalled_requests_are_cut(tmp_path):
    "F8: a client stalled mid-headers or mid-body is disconnected after --read-timeout, with one line in the log and no traceback"
    from active_learn.test_utils import tiny_project
    tiny_project(tmp_path/'p', n=4)
    port, srv = _serve(tmp_path/'p', '--read-timeout', 2)
    with srv as pr:
        heads = [b'GET /stats.json HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ',
                 f'POST /label HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"id"'.encode()]
        for h in heads:
            s = socket.create_connection(('127.0.0.1', port)); s.sendall(h); s.settimeout(15); t = time.time()
            try: got = s.recv(4096)
            except ConnectionResetError: got = b''
            finally: s.close()
            assert time.time()-t < 10, 'the connection stayed open'
            assert not got.startswith(b'HTTP/1.1 2'), got
        time.sleep(0.5); pr.terminate(); err = pr.stderr.read().decode()
    assert 'Traceback' not in err and err.count('sent no whole request in 2 s')==2, err

def test_f9_a_500_carries_the_security_headers(accounts):
    "F9: a bug in a handler is a 500 with every security header"
    proj, db = accounts
    c = _client(proj)
    c.app.state.labeler.db.label_stats = lambda *a, **k: 1/0
    r = c.get('/stats.json')
    assert r.status_code==500 and r.headers['x-frame-options']=='DENY' and 'content-security-policy' in r.headers, r.headers

def _fake_run(db):
    db['runs'].insert(dict(status='done', started='2026-01-01T00:00:00', labels=json.dumps(db.labels)))

def test_f10_gradcam_reads_only_thumbnails(accounts):
    "F10: a tampered thumb row makes /gradcam answer 404, without reading the file or loading a model"
    proj, db = accounts
    _fake_run(db)
    seen = []
    c = _client(proj, cam_learner=lambda db,run: seen.append(run), cam_maps=lambda l,th: seen.append(th.read(16)) or (['a','b'],[0.,0.],np.zeros((2,4,4))))
    for t in ('labels.db', '../p/labels.db', 'thumbs/../labels.db'):
        db.execute('update images set thumb=? where id=1', [t]); db.conn.commit()
        r = c.get('/gradcam/1')
        assert r.status_code==404, (t, r.status_code, r.text)
    assert seen==[]

def test_f11_nul_bytes_in_stored_paths(accounts):
    "F11: a NUL byte in a stored thumbnail or source path gives 404 or 410, never a 500"
    proj, db = accounts
    c = _client(proj)
    db.execute("update images set thumb=?, path=? where id=1", ['thumbs/a\0b.png', '/tmp/x\0y.dcm']); db.conn.commit()
    assert c.get('/img/1').status_code==404
    assert c.get('/full/1').status_code==410

def test_f12_oversized_source_on_zoom(accounts, tmp_path):
    "F12: a source replaced by a header-only 20000x20000 PNG gives a 410 that says why, under the zoom's pixel limit (ingest's)"
    proj, db = accounts
    (tmp_path/'huge.png').write_bytes(png_declaring(20000, 20000))
    db.execute('update images set path=? where id=1', [str(tmp_path/'huge.png')]); db.conn.commit()
    r = _client(proj).get('/full/1')
    assert r.status_code==410 and 'too large' in r.json()['error'], (r.status_code, r.text)

def test_f13_cross_site_gets_refused(accounts):
    "F13: another site's page can't make the server decode or load anything with an <img>; a link the reader follows still opens the page"
    proj, db = accounts
    c = _client(proj)
    img = dict({'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'no-cors', 'Sec-Fetch-Dest': 'image'})
    for u in ('/gradcam/1/0', '/full/1', '/img/1'): assert c.get(u, headers=img).status_code==403, u
    nav = {'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'navigate', 'Sec-Fetch-Dest': 'document'}
    assert c.get('/', headers=nav).status_code==200
    assert c.get('/img/1', headers={'Sec-Fetch-Site': 'same-origin', 'Sec-Fetch-Mode': 'no-cors', 'Sec-Fetch-Dest': 'image'}).status_code==200

def test_f14_folder_links_and_hidden_files_are_named(tmp_path):
    "F14: a folder link and a dot-file go to bad_files with the reason (exit status 2); --follow-links ingests the linked folder once, through a loop"
    arch, other = tmp_path/'arch', tmp_path/'elsewhere'
    good_dicom(arch/'p1'/'a.dcm', 'P1', 1); good_dicom(other/'p2'/'b.dcm', 'P2', 2); good_dicom(other/'p2'/'c.dcm', 'P2', 3)
    (arch/'.DS_Store').write_bytes(b'\0\0\0\1Bud1')
    (arch/'linked').symlink_to(other); (other/'p2'/'back').symlink_to(arch)
    r = run(BIN/'al-ingest', arch, '--project', tmp_path/'p')
    assert r.returncode==2, r.stdout+r.stderr
    bad = dict(sqlite3.connect(tmp_path/'p'/'labels.db').execute('select path, reason from bad_files'))
    assert 'use --follow-links' in bad[str(arch/'linked')] and 'hidden' in bad[str(arch/'.DS_Store')], bad
    r = run(BIN/'al-ingest', arch, '--project', tmp_path/'p', '--follow-links')
    assert '2 new images' in r.stdout, r.stdout+r.stderr
    n = sqlite3.connect(tmp_path/'p'/'labels.db').execute('select count(*) from images').fetchone()[0]
    assert n==3

def test_f15_trailing_newline_in_names(accounts):
    "F15: reader and tab names ending in a newline are refused"
    from active_learn.readers import add_reader
    from active_learn.core import ProjectError
    proj, db = accounts
    with pytest.raises(ProjectError): add_reader(db, 'alice\n', 'a-good-password')
    c = _client(proj)
    r = c.post('/next', json=dict(queue='learn', tab='t1\n', want=1))
    assert r.status_code==400 and 'tab' in r.json()['error']
    r = c.post('/next', json=dict(queue='learn', tab='t1', annotator='ann\n', want=1))
    assert r.status_code==400 and 'annotator' in r.json()['error']

def test_f16_one_readers_guesses_lock_only_that_reader(accounts):
    "F16: behind one address, ten wrong passwords for alice lock alice out, not bob; guesses spread over names still lock the address"
    proj, db = accounts
    c = _client(proj, accounts=True)
    assert [_login(c, 'alice', f'no{i}')[0] for i in range(10)]==[401]*10
    assert _login(c, 'alice', 'alice-password')[0]==429
    assert _login(c, 'bob', 'bob-password')[0]==200
    codes = [_login(c, f'user{i}', 'whatever-it-is')[0] for i in range(45)]
    assert codes[:40]==[401]*40 and set(codes[40:])=={429}, codes   # 50 wrong from the address in all, alice's ten included
