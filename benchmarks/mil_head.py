"""A head that lets one small object decide: per-position logits on the frozen feature map, pooled over positions.

The frozen rung fits a logistic regression on max-pooled features: a linear function of each channel's maximum, where
every channel's maximum may come from a different place (a tissue edge here, a skin fold there). A biopsy clip is one
place. The multiple-instance head scores every position of the frozen network's last feature map (Lite0's 1280 channels
at 1/32 of the 512x416 input: 16x13 positions) with one linear function, and pools the scores (max, top-k mean, or
log-sum-exp), so the image's score is its most suspicious place. It is fitted on the same labels with L-BFGS on cached
maps: seconds.

Measured as `benchmarks/metal_views.py` measures: 200 random non-hold-out labels, biopsy_tool ROC AUC on the rest of the
pool, mean and spread over draws. Choose on normal-5 and hard-6, report on normal-7, hard-8 and realistic-2.

    python benchmarks/mil_head.py --sets normal-5,hard-6 --heads linmax,mil-max,mil-lse4,mil-top3
"""
import os, time, json, argparse
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
from pathlib import Path
import numpy as np, torch, torch.nn.functional as F
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.metrics import roc_auc_score
from active_learn.core import Project
from bench_sets import pool_images
from active_learn.demo import load_truth
from active_learn.backbone import create_backbone, input_shape

@torch.inference_mode()
def feature_maps(db, ids, m, shape, bs=16)->np.ndarray:
    "float16 [N, C, h, w] feature maps of the frozen network for the grey thumbnails of `ids`"
    h,w = shape; out = []
    for i in range(0, len(ids), bs):
        x = np.stack([np.asarray(Image.open(db.thumb_path(int(o))).convert('L').resize((w,h), Image.BILINEAR)) for o in ids[i:i+bs]])
        x = torch.from_numpy((x.astype(np.float32)/255-0.5)/0.5)[:,None].expand(-1,3,-1,-1).contiguous(memory_format=torch.channels_last)
        out.append(m(x).half().numpy())
    return np.concatenate(out)

def pool(s, how):
    "Pool per-position scores s [N, P] to [N]"
    if how=='max': return s.amax(1)
    if how.startswith('lse'): r = float(how[3:]); return (torch.logsumexp(r*s, 1) - np.log(s.shape[1]))/r
    if how.startswith('top'): k = int(how[3:]); return s.topk(k, 1).values.mean(1)
    if how=='avg': return s.mean(1)
    raise ValueError(how)

def fit_mil(X, y, how, lam=1e-3, iters=200):
    "w, b, (mu, sd) of a per-position linear score pooled by `how`, fit by L-BFGS on BCE + lam*|w|^2; X [N,P,C] float32"
    mu,sd = X.reshape(-1, X.shape[-1]).mean(0),X.reshape(-1, X.shape[-1]).std(0)+1e-3
    Z = (X-mu)/sd
    w = torch.zeros(X.shape[-1], requires_grad=True); b = torch.zeros(1, requires_grad=True)
    yt = torch.as_tensor(y, dtype=torch.float32)
    opt = torch.optim.LBFGS([w,b], lr=1, max_iter=iters, line_search_fn='strong_wolfe')
    def closure():
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(pool(Z@w, how)+b, yt) + lam*(w*w).sum()
        loss.backward(); return loss
    opt.step(closure)
    return w.detach(),b.detach(),(mu,sd)

def score_mil(X, fit, how):
    w,b,(mu,sd) = fit
    with torch.no_grad(): return (pool(((X-mu)/sd)@w, how)+b).numpy()

def pool_auc(M, y, n, draws, head, lam)->list:
    "M: float16 [N, C, h, w]"
    res = []
    X = torch.from_numpy(M).float().flatten(2).transpose(1,2).contiguous()   # [N, P, C]
    for d in range(draws):
        perm = np.random.default_rng(d).permutation(len(y)); tr,te = perm[:n],perm[n:]
        if y[tr].min()==y[tr].max(): continue
        if head=='linmax':
            F_ = X.amax(1).numpy(); sc = StandardScaler().fit(F_[tr])
            p = LogisticRegression(C=0.05, max_iter=3000).fit(sc.transform(F_[tr]), y[tr]).decision_function(sc.transform(F_[te]))
        else:
            how = head.split('-')[1]
            p = score_mil(X[te], fit_mil(X[tr], y[tr], how, lam), how)
        res.append(roc_auc_score(y[te], p))
    return res

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--data', default='/work/sim/bench'); ap.add_argument('--sets', default='normal-5,hard-6')
    ap.add_argument('--heads', default='linmax,mil-max,mil-lse4,mil-top3'); ap.add_argument('--lam', default='1e-3')
    ap.add_argument('--labels', type=int, default=200); ap.add_argument('--draws', type=int, default=3); ap.add_argument('--size', type=int, default=512)
    ap.add_argument('--label', default='biopsy_tool')
    a = ap.parse_args()
    torch.set_num_threads(len(os.sched_getaffinity(0)))
    shape = input_shape(a.size)
    m = create_backbone(num_classes=0, global_pool='').eval().to(memory_format=torch.channels_last)
    for s in a.sets.split(','):
        root = Path(a.data)/s; db,t = pool_images(a.data, s)
        f = root/f'maps-{a.size}.npy'
        if not f.exists():
            t0 = time.time(); np.save(f, feature_maps(db, t.image_id.to_numpy(), m, shape))
            print(f'{s}: maps of {len(t)} images in {time.time()-t0:.0f} s', flush=True)
        M = np.load(f, mmap_mode='r')
        for head in a.heads.split(','):
            for lam in map(float, a.lam.split(',')):
                t0 = time.time(); r = pool_auc(np.asarray(M), t[a.label].to_numpy(), a.labels, a.draws, head, lam)
                print(json.dumps(dict(set=s, head=head, lam=lam if head!='linmax' else None, n_labels=a.labels, label=a.label,
                                      pool_auc=round(float(np.mean(r)),3), spread=round(float(np.std(r)),3), s=round(time.time()-t0))), flush=True)
                if head=='linmax': break

if __name__=='__main__': main()
