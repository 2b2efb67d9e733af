"""Input that keeps metal, measured on frozen features (issue "See the tools", candidate 1).

The backbone is fed one grey thumbnail three times. Here it also sees a second view of the same thumbnail in which metal
stands out: channel 1 a high window (only the brightest tenth of the display range, where clips and wires are) and channel 2
a white top-hat (small bright structures against their surroundings), with the grey image in channel 0. For each view the
frozen EfficientNet-Lite0 runs at the model's own input (512x416) with max pooling, and a logistic head (standardised
features, C=0.05 scaled by width) is fitted on 200 random non-hold-out labels; the figure is the ROC AUC of biopsy_tool on the
rest of the pool, mean and spread over 3 draws. A combination `grey+metal` concatenates the two views' features (two passes).

Sets are those of `benchmarks/recipe.py` (`--data DIR`, one folder per set with `project/` and a `ready` file naming its truth
CSV). Choose on some sets, report on others: the candidates were compared on normal-5 and hard-6, then run once on normal-7,
hard-8 and realistic-2. Features are cached per set and view (`feat-VIEW.npy`).

    python benchmarks/metal_views.py --sets normal-5,hard-6 --views grey,metal,tophat --combos grey,metal,grey+metal
"""
import os, sys, time, json, argparse
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
from pathlib import Path
import numpy as np, torch
from PIL import Image
from scipy import ndimage as ndi
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.metrics import roc_auc_score
from active_learn.core import Project
from bench_sets import pool_images, pool_auc
from active_learn.demo import load_truth
from active_learn.backbone import create_backbone, input_shape

def view(g:np.ndarray, v:str)->np.ndarray:
    "uint8 [H,W] -> float32 [3,H,W] normalised for Lite0 (mean 0.5, std 0.5)"
    g = g.astype(np.float32)/255
    th = lambda: np.clip((g-ndi.grey_opening(g, size=(9,9)))*4, 0, 1)   # white top-hat: small bright structures
    if v=='grey': ch = [g,g,g]
    elif v=='metal': ch = [g, np.clip((g-0.7)/0.3, 0, 1), th()]         # grey, a high window, the top-hat
    elif v=='tophat': t = th(); ch = [g,t,t]
    else: raise ValueError(f"Unknown view {v!r}")
    return (np.stack(ch)-0.5)/0.5

@torch.inference_mode()
def features(db, ids, v, m, shape, bs=16)->np.ndarray:
    h,w = shape; out = []
    for i in range(0, len(ids), bs):
        x = np.stack([view(np.asarray(Image.open(db.thumb_path(int(o))).convert('L').resize((w,h), Image.BILINEAR)), v) for o in ids[i:i+bs]])
        out.append(m(torch.from_numpy(x).contiguous(memory_format=torch.channels_last)).float().numpy())
    return np.concatenate(out)

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--data', default='/work/sim/bench'); ap.add_argument('--sets', default='normal-5,hard-6')
    ap.add_argument('--views', default='grey,metal'); ap.add_argument('--combos', default='grey,metal,grey+metal')
    ap.add_argument('--labels', type=int, default=200); ap.add_argument('--draws', type=int, default=3); ap.add_argument('--size', type=int, default=512)
    a = ap.parse_args()
    torch.set_num_threads(len(os.sched_getaffinity(0)))
    shape = input_shape(a.size)
    m = create_backbone(num_classes=0, global_pool='max').eval().to(memory_format=torch.channels_last)
    for s in a.sets.split(','):
        root = Path(a.data)/s; db,t = pool_images(a.data, s)
        for v in a.views.split(','):
            f = root/f'feat-{v}.npy'
            if not f.exists():
                t0 = time.time(); np.save(f, features(db, t.image_id.to_numpy(), v, m, shape))
                print(f'{s}: {v} features of {len(t)} images in {time.time()-t0:.0f} s', flush=True)
        for c in a.combos.split(','):
            X = np.concatenate([np.load(root/f'feat-{v}.npy') for v in c.split('+')], 1)
            r = pool_auc(X, t['biopsy_tool'].to_numpy(), a.labels, a.draws)
            print(json.dumps(dict(set=s, input=c, n_labels=a.labels, biopsy_tool_pool_auc=round(float(np.mean(r)),3), spread=round(float(np.std(r)),3))), flush=True)

if __name__=='__main__': main()
