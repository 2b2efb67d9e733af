"""A real network's scores on a rare set whose truth is known: the population for `evaluation.py --scores`.

The model is the product's own: on a copy of set A's project, 600 random training and validation images are labeled from the
truth (`demo.label_from_truth`) and `train` builds the default model (the trained tail) without scoring A's pool. That model
then scores every image of set B, another rare set it never saw (other patients, other renderer seed), and the CSV holds, per
image of B: patient, the truth and the score of each label, and the run's decision threshold of each label (as `al-evaluate`
reads it: 0.5 where the run tuned none). B's images stand for a hold-out; their truth is known, so the weighted draw's bias,
width and coverage can be measured on scores that come from a network, not from a score model.

    python benchmarks/holdout_scores.py /work/rare/demo-41 /work/rare/demo-42 [--labels 600] [--out benchmarks/results/holdout_scores-demo-42.csv]
"""
import argparse, json, shutil, tempfile, time
from pathlib import Path
import pandas as pd
from active_learn.core import Project
from rare_loop import truth_csv   # this folder is on the path when a script here runs
from active_learn.demo import label_from_truth
from active_learn.simulate import _truth
from active_learn.train import train, get_run, load_run_learner


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('train_set'); ap.add_argument('score_set')
    ap.add_argument('--labels', type=int, default=600)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--out', default=None)
    a = ap.parse_args()
    A,B = Path(a.train_set),Path(a.score_set)
    out = Path(a.out or Path(__file__).parent/'results'/f'holdout_scores-{B.name}.csv')
    tmp = Path(tempfile.mkdtemp(prefix='holdout-scores-'))
    try:
        t0 = time.time()
        shutil.copytree(A/'project', tmp/'project')
        da = Project(tmp/'project')
        label_from_truth(da, truth_csv(A), n=a.labels, seed=a.seed)
        train(da, predict=False, show=False)
        run = get_run(da)
        ths = json.loads(run['best'] or '{}').get('thresholds') or {}
        print(f"trained on {a.labels} random labels of {A.name}: run {run['id']}, {time.time()-t0:.0f} s", flush=True)
        db = Project(B/'project')
        ids = [o for o, in db.execute("select id from images where thumb is not null order by id")]
        df = db.images_df(ids, cols=('thumb','split','patient_id','study_id'))
        learn = load_run_learner(da, run['id'], num_workers=2)
        with learn.no_bar(): p,_ = learn.get_preds(dl=learn.dls.test_dl(df))
        t = _truth(db, truth_csv(B)).set_index('image_id').loc[df.image_id]
        res = pd.DataFrame(dict(image_id=df.image_id, patient=pd.factorize(df.patient_id)[0]))
        for j,o in enumerate(db.labels):
            res[f'y_{o}'],res[f'p_{o}'],res[f'threshold_{o}'] = t[o].to_numpy(int),p[:,j].numpy(),ths.get(o, 0.5)
        res.to_csv(out, index=False)
        prev = ', '.join(f"{o} {res['y_'+o].mean():.1%}" for o in db.labels)
        print(f"scored {len(res)} images of {B.name} ({prev}): {out}, {time.time()-t0:.0f} s")
    finally: shutil.rmtree(tmp, ignore_errors=True)

if __name__=='__main__': main()
