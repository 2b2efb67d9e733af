"""`al-train --processes N` against one process: wall time, and how far the predictions move, next to how far another seed moves them.

A demo project is made outside the timing (synthetic DICOMs, ingested with `--thumb-size`, `--labels` images labeled from the
ground truth). Each run trains a copy of it with al-train (`--epochs`, `--size`, `--bs`, pool scoring included) and records its wall
time and the run's own breakdown. Compared, for the recipe asked for:
  - 1 process (seed 42), 1 process (seed 43), and `--processes N` (seed 42);
  - predictions on the pool: largest and mean absolute difference of N processes from 1 process, and of seed 43 from seed 42:
    data-parallel training draws other dropout masks and other batches, so it should move the predictions about as much as a
    new seed does, no more.
The frozen rung (fewer labels than `--ladder-labels`) fits no Learner; `tests/test_accelerate.py` checks that N processes give one
process's predictions there, bit for bit, at the same per-process batch and threads.

    python benchmarks/processes.py [--patients 30] [--labels 60] [--processes 2] [--ladder-labels 10] [--recipe tail] [--epochs 4]
"""
import argparse, json, os, shutil, sqlite3, subprocess, sys, tempfile, time
from pathlib import Path
import numpy as np

BIN = Path(sys.executable).parent

def al(*args, env=None):
    r = subprocess.run([str(o) for o in args], capture_output=True, text=True, env=env)
    if r.returncode: sys.exit(r.stdout+r.stderr)
    return r

def main():
    ap = argparse.ArgumentParser()
    for k,v in dict(patients=30, labels=60, processes=2, ladder_labels=10, epochs=4, size=96, bs=16, thumb_size=96).items():
        ap.add_argument('--'+k.replace('_','-'), type=int, default=v)
    ap.add_argument('--recipe', default='tail')
    a = ap.parse_args()
    from active_learn.demo import make_demo
    d = Path(tempfile.mkdtemp())
    try:
        src, truth = make_demo(d/'demo', n_patients=a.patients, size=256)
        al(BIN/'al-ingest', src, '--project', d/'base', '--thumb-size', a.thumb_size)
        al(BIN/'al-demo-label', '--project', d/'base', '--truth', truth, '--n', a.labels)
        opts = ['--epochs', a.epochs, '--size', a.size, '--bs', a.bs, '--recipe', a.recipe, '--ladder-labels', a.ladder_labels]
        res = {}
        for name, extra in [('1 process', []), ('1 process, seed 43', ['--seed', 43]), (f'{a.processes} processes', ['--processes', a.processes])]:
            p = d/name.replace(' ','_').replace(',','')
            shutil.copytree(d/'base', p)
            t = time.time(); al(BIN/'al-train', '--project', p, *opts, *extra); secs = time.time()-t
            db = sqlite3.connect(p/'labels.db')
            s = json.loads(db.execute('select settings from runs').fetchone()[0])
            res[name] = dict(secs=secs, settings=s, preds=np.array(db.execute('select biopsy_tool, mag_view from preds order by image_id').fetchall()))
            print(f"{name:>20}: {secs:6.1f} s wall (al-train, scoring included); rung {s.get('rung', a.recipe)}; "
                  f"run's seconds {s.get('seconds')}; {s.get('distributed', '')}", flush=True)
        base = res['1 process']['preds']
        for name in list(res)[1:]:
            diff = np.abs(res[name]['preds']-base)
            print(f"{name:>20} vs 1 process: predictions differ by at most {diff.max():.4f}, on average {diff.mean():.4f} ({len(base)} images x 2 labels)")
    finally: shutil.rmtree(d, ignore_errors=True)

if __name__=='__main__': main()
