"""Frozen features for selection and `al-simulate`: `select.pretrained_embeddings` (ONNX Runtime) against the same
network in PyTorch, on the same thumbnails, in the same run.

The goal (active-learning issue): 644 images at the model's input size in at most 60 s on 2 cores. Prints seconds and
images/s of each path, their ratio, and the projection to 644 images; the one-off ONNX export is timed apart (it is
cached per setting, so a project pays it once).

    python benchmarks/embed.py --project demo/project [--n 256]
"""
import argparse, shutil, time
from pathlib import Path
import numpy as np, torch
from PIL import Image
from active_learn.core import Project
from active_learn.backbone import DEFAULT_ARCH, create_backbone, arch_stats, input_shape, cache_dir, default_taps, TappedBody
from active_learn.queues import pretrained_embeddings

def torch_features(db, ids, size=512, bs=32):
    "The baseline: the same frozen network (the tapped map, max-pooled) and preprocessing in PyTorch (channels-last, inference mode)"
    h,w = input_shape(size); root = db.path
    thumbs = dict(db.execute(f"select id, thumb from images where id in ({','.join(map(str, ids))})"))
    body = TappedBody(create_backbone(DEFAULT_ARCH, num_classes=0, global_pool=''), default_taps(DEFAULT_ARCH))
    m = torch.nn.Sequential(body, torch.nn.AdaptiveMaxPool2d(1), torch.nn.Flatten()).eval().to(memory_format=torch.channels_last)
    mean, std = [torch.tensor(o).view(1,3,1,1) for o in arch_stats(DEFAULT_ARCH)]
    out = []
    with torch.inference_mode():
        for j in range(0, len(ids), bs):
            x = torch.stack([torch.from_numpy(np.asarray(Image.open(root/thumbs[int(i)]).convert('L').resize((w,h), Image.BILINEAR)).copy()) for i in ids[j:j+bs]])
            x = ((x[:,None].float()/255).expand(-1,3,-1,-1)-mean)/std
            out.append(m(x.contiguous(memory_format=torch.channels_last)).numpy())
    return np.concatenate(out)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--project', required=True)
    ap.add_argument('--n', type=int, default=256, help='images timed on each path')
    a = ap.parse_args()
    db = Project(a.project)
    ids = np.array([o for o, in db.execute('select id from images order by id limit ?', [a.n])])
    for f in cache_dir().glob('frozen-*.onnx'): f.unlink()   # time the export once, then the cached path
    t0 = time.time(); pretrained_embeddings(db, ids=ids[:2], force=True); t_export = time.time()-t0
    t0 = time.time(); _, e = pretrained_embeddings(db, ids=ids, force=True); t_ort = time.time()-t0
    t0 = time.time(); b = torch_features(db, ids); t_torch = time.time()-t0
    print(f'{len(ids)} images at {input_shape(512)}, {torch.get_num_threads()} threads')
    print(f'ONNX export (once per setting): {t_export:.1f} s')
    print(f'pretrained_embeddings (ONNX Runtime): {t_ort:.1f} s, {len(ids)/t_ort:.1f} images/s -> 644 images in {644*t_ort/len(ids):.0f} s (goal 60 s)')
    print(f'PyTorch baseline: {t_torch:.1f} s, {len(ids)/t_torch:.1f} images/s -> 644 images in {644*t_torch/len(ids):.0f} s')
    print(f'ratio: {t_torch/t_ort:.2f}x faster than PyTorch; largest difference {np.abs(e.astype(np.float32)-b).max():.3f} (float16 storage)')

if __name__=='__main__': main()
