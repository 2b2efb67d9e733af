"The labeling server against hostile requests, over real sockets: a 300 MB upload, DNS rebinding, TLS and the password's sources."
import http.client, json, os, select, shutil, socket, ssl, subprocess, sys, time
from contextlib import contextmanager
from pathlib import Path
import httpx, pytest

BIN = Path(sys.executable).parent

def _free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def _wait_up(url, proc, **kw):
    for _ in range(300):
        if proc.poll() is not None: raise RuntimeError(f'server exited: {proc.stderr.read().decode()[-2000:]}')
        try: return httpx.get(url, timeout=1, **kw)
        except httpx.TransportError: time.sleep(0.1)
    raise RuntimeError('server did not start')

@contextmanager
def _proc(args, url, env=None, **kw):
    "A server process, stopped afterwards"
    pr = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try: _wait_up(url, pr, **kw); yield pr
    finally: pr.terminate(); pr.wait(10)

@pytest.fixture(scope='module')
def project(tmp_path_factory):
    from active_learn.test_utils import tiny_project
    p = tmp_path_factory.mktemp('srv')/'p'
    tiny_project(p, n=12)
    return p

@pytest.fixture(scope='module')
def server(project):
    "`make_app` under uvicorn in its own process, so its memory can be read"
    port = _free_port()
    code = ("import uvicorn; from active_learn.app import make_app; "
            f"uvicorn.run(make_app({str(project)!r}, 'ann'), host='127.0.0.1', port={port}, log_level='warning')")
    with _proc([sys.executable, '-c', code], f'http://127.0.0.1:{port}/stats.json') as pr: yield port, pr

def _peak_mb(pid): return int([l for l in open(f'/proc/{pid}/status') if l.startswith('VmHWM')][0].split()[1])/1024

def _upload(port, head, total, chunked=False):
    "Send `head` then up to `total` bytes of body as fast as the server takes them; (status line, bytes sent)"
    s = socket.create_connection(('127.0.0.1', port)); s.sendall(head); s.setblocking(False)
    blk, sent = b' '*65536, 0
    if chunked: blk = b'%x\r\n' % len(blk) + blk + b'\r\n'
    try:
        while sent < total:
            r, w, _ = select.select([s], [s], [], 10)
            if r: break   # the server answered
            if not w: raise TimeoutError('the server neither reads nor answers')
            try: sent += s.send(blk)
            except BlockingIOError: pass
            except (BrokenPipeError, ConnectionResetError): break
        s.setblocking(True); s.settimeout(10)
        return s.recv(4096).split(b'\r\n')[0].decode(), sent
    finally: s.close()

def test_300mb_body_refused_unread(server):
    port, pr = server
    mb0 = _peak_mb(pr.pid)
    head = (f'POST /label HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n'
            f'Content-Length: {300_000_000}\r\n\r\n').encode()
    st, sent = _upload(port, head, 300_000_000)
    assert ' 413 ' in st, st
    assert sent < 32_000_000, f'{sent:,} bytes went in before the 413'
    head = (f'POST /label HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n'
            'Transfer-Encoding: chunked\r\n\r\n').encode()
    st, sent2 = _upload(port, head, 300_000_000, chunked=True)
    assert ' 413 ' in st, st
    assert sent2 < 32_000_000, f'{sent2:,} bytes went in before the 413'
    grew = _peak_mb(pr.pid) - mb0
    print(f'\n300 MB uploads: answered 413 after {sent/1e6:.1f} MB (Content-Length) and {sent2/1e6:.1f} MB (chunked) had been sent; '
          f'server peak memory grew {grew:.0f} MB')
    assert grew < 50
    assert httpx.get(f'http://127.0.0.1:{port}/stats.json').status_code == 200, 'the server still answers'

def test_dns_rebinding_refused(server, project):
    "A page whose DNS name now points at 127.0.0.1 sends its own name as Host: refused, nothing written"
    port, _ = server
    from active_learn.core import Project
    db = Project(project)
    n = db.execute('select count(*) from events').fetchone()[0]
    img = db.execute("select id from images where split!='test' limit 1").fetchone()[0]
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
    body = json.dumps(dict(queue='learn', tab='t', id=img, rev=0, values=dict(biopsy_tool=1, mag_view=0)))
    c.request('POST', '/label', body, {'Host': f'attacker.example:{port}', 'Content-Type': 'application/json'})
    r = c.getresponse(); msg = r.read().decode()
    assert r.status == 400 and 'not a name of this server' in msg, (r.status, msg)
    c.request('GET', f'/img/{img}', headers={'Host': f'attacker.example:{port}'})
    r = c.getresponse(); r.read()
    assert r.status == 400
    c.request('POST', '/label', body, {'Host': f'127.0.0.1:{port}', 'Origin': 'http://attacker.example', 'Content-Type': 'application/json'})
    r = c.getresponse(); r.read()
    assert r.status == 403
    assert db.execute('select count(*) from events').fetchone()[0] == n

def _self_signed(d):
    "A self-signed certificate for 127.0.0.1 and localhost: with `cryptography` if installed, else `openssl`; None if neither"
    cert, key = d/'cert.pem', d/'key.pem'
    try:
        import datetime, ipaddress
        from cryptography import x509
        from cryptography.x509.oid import NameOID
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        k = ec.generate_private_key(ec.SECP256R1())
        nm = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'localhost')])
        now = datetime.datetime.now(datetime.timezone.utc)
        c = (x509.CertificateBuilder().subject_name(nm).issuer_name(nm).public_key(k.public_key()).serial_number(1)
             .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
             .add_extension(x509.SubjectAlternativeName([x509.DNSName('localhost'), x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]), False)
             .sign(k, hashes.SHA256()))
        cert.write_bytes(c.public_bytes(serialization.Encoding.PEM))
        key.write_bytes(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        return cert, key
    except ImportError: pass
    if not shutil.which('openssl'): return None
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
                    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
                    '-keyout', str(key), '-out', str(cert)], check=True, capture_output=True)
    return cert, key

def test_tls_and_password_from_env(project, tmp_path):
    "`al-label --tls-cert --tls-key` answers over https, with the password from $AL_PASSWORD"
    ck = _self_signed(tmp_path)
    if ck is None:
        print('\n*** SKIPPED TLS test: neither the cryptography package nor openssl is available ***', file=sys.stderr)
        pytest.skip('neither cryptography nor openssl to make a certificate')
    port = _free_port()
    url = f'https://127.0.0.1:{port}'
    ctx = ssl.create_default_context(cafile=str(ck[0]))
    env = dict(os.environ, AL_PASSWORD='from-env')
    args = [str(BIN/'al-label'), '--project', str(project), '--port', str(port), '--tls-cert', str(ck[0]), '--tls-key', str(ck[1])]
    with _proc(args, url+'/stats.json', env=env, verify=ctx) as pr:
        assert httpx.get(url+'/stats.json', verify=ctx).status_code == 401
        assert httpx.get(url+'/stats.json', verify=ctx, auth=('any', 'from-env')).status_code == 200
        assert httpx.get(url+'/stats.json', verify=ctx, auth=('any', 'wrong')).status_code == 401
        with pytest.raises(httpx.TransportError): httpx.get(f'http://127.0.0.1:{port}/stats.json', timeout=3)
    assert b'https://127.0.0.1' in pr.stdout.read()

def test_password_file_and_argv_warning(project, tmp_path):
    "--password-file works; --password works but warns that `ps` shows it; both at once is refused"
    pf = tmp_path/'pw'; pf.write_text('from-file\n'); pf.chmod(0o600)
    port = _free_port()
    url = f'http://127.0.0.1:{port}/stats.json'
    with _proc([str(BIN/'al-label'), '--project', str(project), '--port', str(port), '--password-file', str(pf)], url):
        assert httpx.get(url, auth=('x', 'from-file')).status_code == 200
        assert httpx.get(url, auth=('x', 'from-env')).status_code == 401
    with _proc([str(BIN/'al-label'), '--project', str(project), '--port', str(port), '--password', 'typed'], url) as pr:
        assert httpx.get(url, auth=('x', 'typed')).status_code == 200
    assert b'visible to every user' in pr.stderr.read()
    r = subprocess.run([str(BIN/'al-label'), '--project', str(project), '--password', 'a', '--password-file', str(pf)], capture_output=True)
    assert r.returncode == 1 and b'not both' in r.stderr

def test_label_strategy_kept(tmp_path):
    "`al-label --strategy` stores the project's query strategy, which orders the learn queue; `--strategy default` resets it"
    from active_learn.test_utils import tiny_project
    from active_learn.queues import project_strategy
    from active_learn.core import Project
    p = tmp_path/'p'; tiny_project(p, n=12)
    port = _free_port(); url = f'http://127.0.0.1:{port}/stats.json'
    with _proc([str(BIN/'al-label'), '--project', str(p), '--port', str(port), '--strategy', 'margin@0.2'], url):
        assert project_strategy(Project(p))=='margin@0.2'
    with _proc([str(BIN/'al-label'), '--project', str(p), '--port', str(port), '--strategy', 'default'], url):
        assert project_strategy(Project(p))=='stratified'
