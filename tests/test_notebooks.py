"""Notebooks that build images show them: each keeps at least one picture (a saved image output, or for the labeling app a
screenshot it links), and the notebooks stay small enough to read and diff."""
import json, re
from pathlib import Path
import pytest

NBS = Path(__file__).parent.parent/'nbs'
# every notebook whose code makes pictures: decoded and windowed mammograms, thumbnails, demo frames, model inputs,
# Grad-CAM maps, learning curves, pages
SHOWS = ['01_backbone', '02_imaging', '02a_demo', '03_ingest', '04_realistic', '06_train', '06a_test_utils', '08_simulate',
         '09_export', '11_gradcam', '11a_viewer', '12_app']

def pictures(nb):
    cells = json.loads((NBS/f'{nb}.ipynb').read_text())['cells']
    outs = [o for c in cells if c['cell_type']=='code' for o in c.get('outputs', []) if 'image/png' in o.get('data', {})]
    links = [m for c in cells if c['cell_type']=='markdown' for m in re.findall(r'!\[[^\]]*\]\((images/[^)]+)\)', ''.join(c['source']))]
    return outs, links

@pytest.mark.parametrize('nb', SHOWS)
def test_shows_a_picture(nb):
    outs,links = pictures(nb)
    assert outs or links, f'{nb} builds images but shows none'
    for o in links: assert (NBS/o).exists(), f'{nb} links {o}, which is missing'

def test_notebooks_stay_small():
    big = {o.name: o.stat().st_size for o in NBS.glob('*.ipynb') if o.stat().st_size>1_500_000}
    assert not big, f'notebooks over 1.5 MB: {big}'
