"Fixtures shared by the test modules."
import numpy as np, pandas as pd, pytest

@pytest.fixture(scope='module')
def bundle(tmp_path_factory):
    "A tiny untrained model bundle, as `nbs/10_classify.ipynb` makes one: its probabilities serve as well as a trained model's for comparing paths"
    from fastai.vision.all import DataBlock, ImageBlock, MultiCategoryBlock, ColReader, RandomSplitter, Resize, vision_learner, BCEWithLogitsLossFlat
    from active_learn.backbone import DEFAULT_ARCH, timm_model_kwargs
    from active_learn.export import bundle_from_learner
    from active_learn.imaging import thumbnail
    d = tmp_path_factory.mktemp('bundle')
    fns = [d/f't{i}.png' for i in range(8)]
    for i,f in enumerate(fns): thumbnail(np.random.default_rng(i).integers(0,255,(96,72),dtype=np.uint8), 64).save(f)
    df = pd.DataFrame(dict(fn=fns, biopsy_tool=[i%2 for i in range(8)], mag_view=[i//4 for i in range(8)]))
    dls = DataBlock(blocks=(ImageBlock, MultiCategoryBlock(encoded=True, vocab=['biopsy_tool','mag_view'])), get_x=ColReader('fn'),
                    get_y=ColReader(['biopsy_tool','mag_view']), splitter=RandomSplitter(0.25, seed=0),
                    item_tfms=Resize(48, method='squish')).dataloaders(df, bs=4, num_workers=0)
    learn = vision_learner(dls, DEFAULT_ARCH, loss_func=BCEWithLogitsLossFlat(), **timm_model_kwargs())
    return bundle_from_learner(learn, d/'bundle', fns[:4], thumb_size=64, thresholds=dict(biopsy_tool=0.5, mag_view=0.5), learner_pkl=False)
