"""The library's modules import in one direction: no cycle among them (lazy imports inside functions included), and the
notebook a module comes from imports only modules of notebooks before it (test cells included)."""
import ast, json, re
from graphlib import TopologicalSorter, CycleError
from pathlib import Path

ROOT = Path(__file__).parent.parent
LIB, NBS = ROOT/'active_learn', ROOT/'nbs'

def _imports(tree, pkg='active_learn'):
    "Names of the `active_learn` modules a module's syntax tree imports, anywhere in it"
    out = set()
    for o in ast.walk(tree):
        if isinstance(o, ast.ImportFrom):
            mod = o.module or ''
            if o.level==1: out |= {mod.split('.')[0]} if mod else {a.name for a in o.names}
            elif mod==pkg: out |= {a.name for a in o.names}
            elif mod.startswith(pkg+'.'): out.add(mod.split('.')[1])
        elif isinstance(o, ast.Import): out |= {a.name.split('.')[1] for a in o.names if a.name.startswith(pkg+'.')}
    return out

def module_graph():
    mods = {o.stem for o in LIB.glob('*.py') if o.stem not in ('__init__','_modidx')}
    return {m: _imports(ast.parse((LIB/f'{m}.py').read_text())) & mods - {m} for m in mods}

def test_no_import_cycle():
    g = module_graph()
    assert len(g)>10
    try: order = list(TopologicalSorter(g).static_order())
    except CycleError as e: raise AssertionError(f"import cycle among active_learn modules: {' -> '.join(e.args[1])}") from None
    assert order.index('core') < order.index('train') < order.index('queues') < order.index('app')
    # the server's layers: the guard and the viewer below reader accounts, all of them below the app
    assert order.index('imaging') < order.index('viewer') < order.index('app')
    assert order.index('guard') < order.index('readers') < order.index('app')
    assert order.index('queues') < order.index('serving') < order.index('app')
    assert 'app' not in g['gradcam'] | g['viewer'] | g['guard'] | g['readers'] | g['serving']

def test_cycle_is_caught(tmp_path):
    "The check itself: a lazy import inside a function that closes a loop is a cycle"
    g = module_graph()
    g['strategies'] = g['strategies'] | _imports(ast.parse("def f():\n    from active_learn.queues import refresh_queue"))
    try: TopologicalSorter(g).prepare(); raise AssertionError('no cycle found')
    except CycleError: pass

def _nb_modules():
    "{module: notebook path} from each notebook's `default_exp`"
    out = {}
    for nb in NBS.glob('*.ipynb'):
        for c in json.loads(nb.read_text())['cells']:
            m = re.search(r'^#\|\s*default_exp\s+(\S+)', ''.join(c['source']), re.M)
            if m: out[m.group(1)] = nb
    return out

def test_notebooks_import_earlier_notebooks():
    mods = _nb_modules()
    assert {'core','strategies','train','test_utils','queues','launch','viewer','guard','readers','serving','app'} <= set(mods)
    bad = []
    for m,nb in mods.items():
        code = '\n'.join(''.join(c['source']) for c in json.loads(nb.read_text())['cells'] if c['cell_type']=='code')
        code = '\n'.join(l for l in code.splitlines() if not l.lstrip().startswith(('!','%')))
        for o in _imports(ast.parse(code)) & set(mods) - {m}:
            if mods[o].name > nb.name: bad.append(f"{nb.name} imports {o} from the later {mods[o].name}")
    assert not bad, '\n'.join(bad)
