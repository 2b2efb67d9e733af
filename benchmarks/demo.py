"Time `make_demo`: one core vs all cores, per image, against the one-off decode of the source tissue and a bare write of the same files"
import os, sys, time, tempfile, shutil
from pathlib import Path
import numpy as np, pandas as pd, pydicom
from fastcore.parallel import defaults
from active_learn import demo

def bare_write(csv, dest):
    "Baseline: write each file's pixel data again, uncompressed, without rendering (the I/O and encoding floor)"
    t0 = time.time()
    for i,p in enumerate(pd.read_csv(csv).path.unique()):
        ds = pydicom.dcmread(p); ds.decompress() if ds.file_meta.TransferSyntaxUID.is_compressed else None
        ds.save_as(Path(dest)/f'{i}.dcm')
    return time.time()-t0

if __name__=='__main__':
    n = int(sys.argv[1]) if len(sys.argv)>1 else 40
    tmp = Path(tempfile.mkdtemp())
    t0 = time.time(); demo.tissue_sources(); t_src = time.time()-t0
    t0,c0 = time.time(),time.process_time(); _,csv = demo.make_demo(tmp/'one', n_patients=n, n_workers=1); t1,c1 = time.time()-t0, time.process_time()-c0
    cpus = defaults.cpus
    t0 = time.time(); demo.make_demo(tmp/'all', n_patients=n, n_workers=cpus); tn = time.time()-t0
    (tmp/'bare').mkdir(); tb = bare_write(csv, tmp/'bare')
    t = pd.read_csv(csv); n_img, n_files = len(t), t.path.nunique()
    print(f"{n} patients, {n_files} files, {n_img} images, size 1600; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"source tissue decode (once per process): {t_src:.1f} s")
    print(f"make_demo, 1 worker:  {t1:.1f} s wall, {c1:.1f} s CPU ({n_img/t1:.1f} images/s wall, {c1/n_img*1000:.0f} ms CPU per image)")
    print(f"make_demo, {cpus} workers: {tn:.1f} s ({n_img/tn:.1f} images/s); speed-up {t1/tn:.2f}x")
    print(f"bare re-write of the same files (decode + uncompressed write): {tb:.1f} s; make_demo 1 worker / bare = {t1/tb:.1f}x")
    shutil.rmtree(tmp)
