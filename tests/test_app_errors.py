"""A bug in a handler is a server error: a `KeyError`, `ValueError` or any other exception the app did not mean for the reader answers 500,
with the security headers, never a 404 or a 400 that would blame the client."""
import pytest
from starlette.testclient import TestClient

HDRS = {'x-content-type-options':'nosniff', 'x-frame-options':'DENY', 'referrer-policy':'no-referrer', 'cache-control':'no-store'}

@pytest.fixture(scope='module')
def client(tmp_path_factory):
    from active_learn.test_utils import tiny_project
    from active_learn.app import make_app
    p = tmp_path_factory.mktemp('errs')/'p'
    tiny_project(p, n=4)
    return TestClient(make_app(p, 'ann', background=False), base_url='http://localhost', raise_server_exceptions=False)

def _bug(exc):
    def f(*a, **k): raise exc
    return f

@pytest.mark.parametrize('exc', [KeyError('oops'), ValueError('oops'), ZeroDivisionError('oops')])
@pytest.mark.parametrize('route', ['label', 'item'])
def test_handler_bug_is_500(client, monkeypatch, exc, route):
    lb = client.app.state.labeler
    monkeypatch.setattr(lb, route, _bug(exc))
    r = client.post(f'/{route}', json=dict(tab='t', id=1, rev=0, values=dict(biopsy_tool=1, mag_view=0), want=0))
    assert r.status_code == 500, (r.status_code, r.text)
    assert {k:r.headers.get(k) for k in HDRS} == HDRS
    assert "frame-ancestors 'none'" in r.headers['content-security-policy']

def test_get_bug_is_500(client, monkeypatch):
    monkeypatch.setattr(client.app.state.labeler, 'thumb_file', _bug(KeyError(1)))
    r = client.get('/img/1')
    assert r.status_code == 500 and r.headers['x-content-type-options'] == 'nosniff'

def test_meant_errors_keep_their_status(client):
    "The errors meant for the reader still say what was wrong, with their status"
    post = lambda path, **kw: client.post(path, json=dict(dict(tab='t', want=0), **kw))
    assert post('/label', id=99999, rev=0, values=dict(biopsy_tool=1, mag_view=0)).status_code == 404   # core's UnknownImage
    assert post('/label', id=1, rev=0, values=dict(biopsy_tool=7, mag_view=0)).status_code == 400      # core's ProjectError
    assert post('/next', queue='nope').status_code == 400
    assert client.get('/gradcam/1').status_code == 409   # no model yet
