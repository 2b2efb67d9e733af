"""One training epoch of `active_learn.train`'s Learner against a plain PyTorch loop, on the same model, data and batch size.

A demo project is made (synthetic DICOMs, ingested, every train/valid image labeled from the ground truth), outside the timing.
Then, alternating, `--reps` times each:
  - plain: the original script's approach. A torch `Dataset` opening each thumbnail with PIL and applying torchvision
    transforms (squish to size, flip, rotation 15, brightness/contrast 0.2, random resized crop 0.8-1, normalise, random
    erasing), a `DataLoader` with the same workers, AdamW with weight decay, focal loss, gradient clipping at 1, cosine
    schedule; then a validation pass collecting probabilities and ROC AUC.
  - fastai: `project_dls` + `project_learner` exactly as `train` builds them (batch augmentations, per-label metrics,
    `GradientClip`, `SaveModelCallback`), unfrozen, `fit_one_cycle(1, slice(lo, hi))`, i.e. one phase-2 epoch with validation.
Both start from the same weights and train every parameter. Reported: best wall time of each, and fastai/plain (goal <= 1.15).

OpenMP threads are told not to spin (OMP_WAIT_POLICY=PASSIVE): on a machine shared with other jobs spinning threads
make both loops several times slower and the timings meaningless. Both sides run with the same setting.

    python benchmarks/train.py [--size 224] [--bs 32] [--patients 40] [--reps 2] [--workers 2]
"""
import os
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
import argparse, copy, io, math, shutil, tempfile, time
from contextlib import redirect_stdout
from pathlib import Path
import numpy as np, torch
import torchvision.transforms as T
from PIL import Image
from sklearn.metrics import roc_auc_score
from fastai.vision.all import SaveModelCallback, set_seed
from active_learn.core import open_project, get_labels, labeled_df
from active_learn.demo import make_demo, label_from_truth
from active_learn.ingest import ingest
from active_learn.backbone import DEFAULT_ARCH, arch_stats
from active_learn.train import project_dls, project_learner, FocalLoss

def make_project(dest:Path, n_patients:int):
    src, truth = make_demo(dest/'demo', n_patients=n_patients, seed=0, size=1024)
    ingest([src], dest/'proj', verbose=False)
    db = open_project(dest/'proj')
    label_from_truth(db, truth)
    return db

class ThumbDS(torch.utils.data.Dataset):
    def __init__(self, df, labels, tfm): self.paths, self.y, self.tfm = list(df.thumb), df[labels].values.astype(np.float32), tfm
    def __len__(self): return len(self.paths)
    def __getitem__(self, i): return self.tfm(Image.open(self.paths[i]).convert('RGB')), torch.from_numpy(self.y[i])

def plain_loaders(df, labels, size, bs, stats, nw):
    norm = T.Normalize(*stats)
    trn = T.Compose([T.Resize((size,size)), T.RandomHorizontalFlip(), T.RandomRotation(15), T.ColorJitter(brightness=0.2, contrast=0.2),
                     T.RandomResizedCrop(size, scale=(0.8,1.0)), T.ToTensor(), norm, T.RandomErasing(p=0.2, scale=(0.02,0.1))])
    val = T.Compose([T.Resize((size,size)), T.ToTensor(), norm])
    mk = lambda d,t,sh: torch.utils.data.DataLoader(ThumbDS(d, labels, t), batch_size=bs, shuffle=sh, num_workers=nw, drop_last=sh)
    return mk(df[df.split=='train'], trn, True), mk(df[df.split=='valid'], val, False)

def plain_epoch(model, opt, sched, loss_func, dl_trn, dl_val):
    model.train()
    for x,y in dl_trn:
        loss = loss_func(model(x), y)
        opt.zero_grad(); loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    sched.step()
    model.eval(); ps, ts = [], []
    with torch.no_grad():
        for x,y in dl_val: ps.append(torch.sigmoid(model(x))); ts.append(y)
    p, t = torch.cat(ps).numpy(), torch.cat(ts).numpy()
    return [roc_auc_score(t[:,j], p[:,j]) if 0<t[:,j].sum()<len(t) else math.nan for j in range(t.shape[1])]

def main(size=224, bs=32, patients=40, reps=2, workers=2, lr=1e-3):
    tmp = Path(tempfile.mkdtemp())
    try:
        db = make_project(tmp, patients)
        labels, df = get_labels(db), labeled_df(db)
        stats = arch_stats(DEFAULT_ARCH)
        print(f"{len(df)} labeled images ({(df.split=='train').sum()} train, {(df.split=='valid').sum()} valid), size {size}, bs {bs}, "
              f"{workers} workers, {torch.get_num_threads()} torch threads, {DEFAULT_ARCH}")
        set_seed(0)
        dls = project_dls(db, size, bs, df=df, num_workers=workers)
        learn = project_learner(dls, path=tmp/'proj')
        learn.unfreeze()
        model = copy.deepcopy(learn.model)
        opt = torch.optim.AdamW(model.parameters(), lr=lr/2, weight_decay=0.01)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=reps+1, eta_min=1e-6)
        dl_trn, dl_val = plain_loaders(df, labels, size, bs, stats, workers)
        save = SaveModelCallback(monitor='auc', fname='bench')
        times = dict(plain=[], fastai=[])
        for r in range(reps):
            t = time.perf_counter(); auc = plain_epoch(model, opt, sched, FocalLoss(), dl_trn, dl_val); times['plain'].append(time.perf_counter()-t)
            print(f"rep {r} plain  {times['plain'][-1]:6.1f}s  valid AUC {np.round(auc, 3).tolist()}")
            t = time.perf_counter()
            with learn.no_bar(), learn.no_logging(), redirect_stdout(io.StringIO()): learn.fit_one_cycle(1, slice(lr/200, lr/2), cbs=save)
            times['fastai'].append(time.perf_counter()-t)
            print(f"rep {r} fastai {times['fastai'][-1]:6.1f}s  valid AUC {[round(float(learn.recorder.values[-1][learn.recorder.metric_names[1:-1].index(f'auc_{o}')]), 3) for o in labels]}")
        p, f = min(times['plain']), min(times['fastai'])
        n = len(df)
        print(f"\nplain PyTorch loop: {p:.1f}s/epoch ({n/p:.1f} img/s)\nfastai Learner:     {f:.1f}s/epoch ({n/f:.1f} img/s)\n"
              f"ratio fastai/plain: {f/p:.2f}x (goal <= 1.15x)")
    finally: shutil.rmtree(tmp, ignore_errors=True)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--size', type=int, default=224); ap.add_argument('--bs', type=int, default=32)
    ap.add_argument('--patients', type=int, default=40); ap.add_argument('--reps', type=int, default=2)
    ap.add_argument('--workers', type=int, default=2)
    a = ap.parse_args()
    main(a.size, a.bs, a.patients, a.reps, a.workers)
