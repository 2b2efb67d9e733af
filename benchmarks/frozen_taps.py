"""Which stages of the frozen backbone should the head see? (issue "See the tools": pooling and head, resolution)

For each set, the frozen EfficientNet-Lite0 runs once over every non-hold-out thumbnail at the model's input (512x416, grey
x3); the maps of stages 4-7 and of the final convolution are max-pooled (and average-pooled) over positions and cached
(`stages-SIZE.npz`). A logistic regression per label (standardised features, C=0.05 scaled by width) is then fitted on
`--labels` random images and scored (ROC AUC) on the rest of the pool, over `--draws` draws. Rows:
  - head: the final map alone (the frozen rung before `TappedBody`);
  - s5, s6, s7: one stage alone;
  - taps: stages 5-7 and the final map, concatenated (`TappedBody` with `TAPS`);
  - taps+s4, taps+avg: one more stage, or the average-pooled halves too.
The choice was made on normal-5 and hard-6; normal-7, hard-8 and realistic-2 were run once afterwards.

    python benchmarks/frozen_taps.py --sets normal-5,hard-6 [--labels 50,100,200] [--label biopsy_tool]
"""
import os, time, json, argparse
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
from pathlib import Path
import numpy as np, torch
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.metrics import roc_auc_score
from active_learn.core import Project
from bench_sets import pool_images, pool_auc
from active_learn.demo import load_truth
from active_learn.backbone import create_backbone, input_shape

def stage_features(m, x)->dict:
    "Max- then average-pooled maps of stages 4-7 (1-based names s4..s7) and of the final convolution ('head')"
    x = m.bn1(m.conv_stem(x)); outs = {}
    for i,b in enumerate(m.blocks):
        x = b(x)
        if i>=3: outs[f's{i+1}'] = x
    outs['head'] = m.bn2(m.conv_head(x))
    return {k: torch.cat([v.amax((2,3)), v.mean((2,3))], 1) for k,v in outs.items()}

@torch.inference_mode()
def cached_features(db, ids, m, shape, fn:Path, bs:int=16)->dict:
    if fn.exists(): return dict(np.load(fn))
    h,w = shape; out = {}
    for i in range(0, len(ids), bs):
        x = np.stack([np.asarray(Image.open(db.thumb_path(int(o))).convert('L').resize((w,h), Image.BILINEAR)) for o in ids[i:i+bs]])
        x = torch.from_numpy((x.astype(np.float32)/255-0.5)/0.5)[:,None].expand(-1,3,-1,-1).contiguous(memory_format=torch.channels_last)
        for k,v in stage_features(m, x).items(): out.setdefault(k, []).append(v.numpy())
    out = {k: np.concatenate(v) for k,v in out.items()}
    np.savez(fn, **out); return out

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--data', default='/work/sim/bench'); ap.add_argument('--sets', default='normal-5,hard-6')
    ap.add_argument('--labels', default='200'); ap.add_argument('--draws', type=int, default=5); ap.add_argument('--size', type=int, default=512)
    ap.add_argument('--label', default='biopsy_tool')
    a = ap.parse_args()
    torch.set_num_threads(len(os.sched_getaffinity(0)))
    m = create_backbone(num_classes=0, global_pool='').eval().to(memory_format=torch.channels_last)
    for s in a.sets.split(','):
        root = Path(a.data)/s; db,t = pool_images(a.data, s)
        t0 = time.time(); Z = cached_features(db, t.image_id.to_numpy(), m, input_shape(a.size), root/f'stages-{a.size}.npz')
        mx = lambda k: Z[k][:, :Z[k].shape[1]//2]
        rows = dict(head=mx('head'), s5=mx('s5'), s6=mx('s6'), s7=mx('s7'), taps=np.concatenate([mx(k) for k in ('s5','s6','s7','head')], 1),
                    **{'taps+s4': np.concatenate([mx(k) for k in ('s4','s5','s6','s7','head')], 1),
                       'taps+avg': np.concatenate([Z[k] for k in ('s5','s6','s7','head')], 1)})
        for n in map(int, a.labels.split(',')):
            for k,X in rows.items():
                r = pool_auc(X, t[a.label].to_numpy(), n, a.draws)
                print(json.dumps(dict(set=s, features=k, dim=X.shape[1], n_labels=n, label=a.label, pool_auc=round(float(np.mean(r)),3),
                                      spread=round(float(np.std(r)),3))), flush=True)

if __name__=='__main__': main()
