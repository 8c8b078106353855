"""The script a user would otherwise write: the official SDK (dashscope==2.0.2), 20 threads,
async_call + wait + download, retrying a throttled submit once a second.

Usage: baseline.py N OUTPUT_DIR   (DASHSCOPE_HTTP_BASE_URL / DASHSCOPE_API_KEY in the environment)
Prints: "<makespan seconds> <videos downloaded> <submit 429s>"
"""
import concurrent.futures
import os
import sys
import threading
import time
import urllib.request

from dashscope import VideoSynthesis

n, out = int(sys.argv[1]), sys.argv[2]
throttled = 0
lock = threading.Lock()


def job(i):
    global throttled
    model = "pixverse/pixverse-c1-r2v" if i % 2 == 0 else "pixverse/pixverse-v5.6-r2v"
    while True:
        r = VideoSynthesis.async_call(
            model=model, prompt="@man runs", size="640*360", duration=5, seed=i,
            media=[{"type": "image_url", "url": "https://example.com/m.jpg", "ref_name": "man"}],
        )
        if r.status_code == 200:
            break
        if r.status_code == 429:
            with lock:
                throttled += 1
            time.sleep(1)
            continue
        return False
    done = VideoSynthesis.wait(r)
    if done.status_code != 200 or done.output.task_status != "SUCCEEDED":
        return False
    urllib.request.urlretrieve(done.output.video_url, os.path.join(out, f"{i}.mp4"))
    return True


start = time.time()
with concurrent.futures.ThreadPoolExecutor(20) as pool:
    ok = sum(pool.map(job, range(n)))
print(f"{time.time() - start:.2f} {ok} {throttled}")
