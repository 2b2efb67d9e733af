"""`TrainConfig` declares every training setting once: each field, set alone, reaches the configuration a run is built from
through `train(db, field=...)`, through `al-train --field ...` (its parser, as the command line gives it), and through the
processes of `al-train --processes N` (the arguments `cli.cli_args` writes, read back by `dataparallel.main`).
The project has no labels, so each call stops at the label check, right after building its configuration: nothing trains."""
import dataclasses, pytest, timm
from fastcore.script import anno_parser
from safetensors.torch import save_file
from active_learn.core import Project, ProjectError
from active_learn.train import TrainConfig, train
from active_learn.launch import al_train
from active_learn.cli import cli_args
from active_learn import dataparallel
from active_learn.test_utils import toy_project

# a value other than the default for each field, valid on its own
VALUES = dict(recipe='full', arch='efficientnet_lite0', weights=None, size=96, resize='pad', bs=8, epochs=3, lr=1e-3, seed=7, fit_valid=False,
              freeze_epochs=2, lr_mult=10., ps=0.2, wd=0.05, n_groups=2, alpha=0.5, gamma=1., taps=(4,), ladder_labels=20, underfit_margin=0.3,
              predict=False, num_workers=1, show=False)

def test_values_cover_every_field():
    f = dataclasses.fields(TrainConfig)
    assert set(VALUES)=={o.name for o in f}
    assert all(VALUES[o.name]!=o.default for o in f if o.name!='weights')

@pytest.fixture(scope='module')
def env(tmp_path_factory):
    "A project with no labels, and a weights file for `efficientnet_lite0` (random weights: only its name matters here)"
    d = tmp_path_factory.mktemp('cfg')
    fn = d/'lite0.safetensors'
    save_file(timm.create_model('efficientnet_lite0', pretrained=False).state_dict(), fn)
    toy_project(d/'p').close()
    return d/'p', dict(VALUES, weights=str(fn))

@pytest.fixture
def built(monkeypatch):
    "Every `TrainConfig` built while the test runs"
    got, post = [], TrainConfig.__post_init__
    def rec(self): post(self); got.append(self)
    monkeypatch.setattr(TrainConfig, '__post_init__', rec)
    return got

def check(got, k, v):
    assert got, f'no TrainConfig was built for {k}'
    c = got[-1]
    assert getattr(c, k)==v, (k, getattr(c, k), v)
    # what the run would record of it: the model settings are in `record()`, the rest in the run's own columns or rung
    if k in ('resize', 'weights', 'ps', 'wd', 'n_groups', 'recipe', 'fit_valid'): assert c.record()[k]==v, (k, c.record()[k])
    if k=='taps': assert c.record()['taps']==list(v)
    if k in ('alpha', 'gamma'): assert c.record()['loss'][k]==v

@pytest.mark.parametrize('k', list(VALUES))
def test_field_through_train(env, built, k):
    p, vals = env
    db = Project(p)
    with pytest.raises(ProjectError, match='labeled image'): train(db, **{k: vals[k]})
    check(built, k, vals[k])

@pytest.mark.parametrize('k', list(VALUES))
def test_field_through_al_train(env, built, k):
    "`al-train --k v`, parsed by al-train's own parser; then the same arguments as the processes of `--processes N` get them"
    p, vals = env
    args = cli_args(al_train, **{k: vals[k]})
    assert args, k
    a = vars(anno_parser(al_train.__wrapped__).parse_args(['--project', str(p), *args]))
    for o in ('pdb', 'xtra'): a.pop(o)
    with pytest.raises(ProjectError, match='labeled image'): al_train(**a)
    check(built, k, vals[k])
    built.clear()
    with pytest.raises(SystemExit, match='labeled image'): dataparallel.main(['--project', str(p), *args])
    check(built, k, vals[k])

def test_train_takes_a_config_or_its_fields(env):
    with pytest.raises(TypeError, match='not both'): train(Project(env[0]), TrainConfig(), ps=0.2)
