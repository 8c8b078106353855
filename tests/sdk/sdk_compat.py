"""Drives the fake DashScope with the official Python SDK (dashscope==2.0.2).

Run by tests/sdk_compat.rs with DASHSCOPE_HTTP_BASE_URL and DASHSCOPE_API_KEY pointing at an
in-process fake at its defaults: every task stays PENDING for a while after its create (the
service's scheduling), so a task cancelled right after its create is cancelled while PENDING.
Every assertion is about the SDK parsing what the fake sends; the first failure exits non-zero.
"""
import sys
from http import HTTPStatus

import dashscope
from dashscope import VideoSynthesis

MODEL = "pixverse/pixverse-c1-r2v"
MEDIA = [
    {"type": "image_url", "url": "https://example.com/man.jpg", "ref_name": "男人"},
    {"type": "image_url", "url": "https://example.com/guitar.png", "ref_name": "吉他"},
]
PROMPT = "@男人 坐在窗边，手持@吉他 ，演奏民谣"


def check(cond, what, resp=None):
    if not cond:
        print(f"FAIL: {what}: {resp}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {what}")


def submit(size="1280*720", seed=7):
    return VideoSynthesis.async_call(
        model=MODEL, prompt=PROMPT, media=MEDIA, size=size, duration=5, seed=seed,
        watermark=False, audio=True,
    )


first = submit()
check(first.status_code == HTTPStatus.OK, "async_call answers 200", first)
check(bool(first.output.task_id), "async_call gives a task id", first)
check(first.output.task_status == "PENDING", "a new task is PENDING", first)

second = submit(seed=8)
check(second.status_code == HTTPStatus.OK and second.output.task_status == "PENDING", "second task created", second)
pending = VideoSynthesis.fetch(second)
check(pending.output.task_status == "PENDING", "right after its create a task is still PENDING", pending)
cancelled = VideoSynthesis.cancel(second)
check(cancelled.status_code == HTTPStatus.OK, "cancel of a PENDING task succeeds", cancelled)
after = VideoSynthesis.fetch(second)
check(after.output.task_status == "CANCELED", "a cancelled task reads CANCELED", after)

# Created now, so that it runs alongside the first.
bad = submit(size="1234*567", seed=9)
check(bad.status_code == HTTPStatus.OK, "a bad size is accepted at create (as documented)", bad)

fetched = VideoSynthesis.fetch(first)
check(fetched.status_code == HTTPStatus.OK, "fetch answers 200", fetched)
check(fetched.output.task_id == first.output.task_id, "fetch parses the task id", fetched)
check(fetched.output.task_status in ("PENDING", "RUNNING"), "fetch parses the status", fetched)

done = VideoSynthesis.wait(first)
check(done.status_code == HTTPStatus.OK, "wait answers 200", done)
check(done.output.task_status == "SUCCEEDED", "wait ends SUCCEEDED", done)
check(done.output.video_url and done.output.video_url.endswith(".mp4"), "wait parses video_url", done)
check(done.usage is not None, "usage is parsed", done)
usage = dict(done.usage) if not isinstance(done.usage, dict) else done.usage
check(usage.get("duration") == 5 and usage.get("SR") == "720", "usage carries duration and SR", usage)

late = VideoSynthesis.cancel(first)
check(late.status_code == HTTPStatus.BAD_REQUEST, "cancel of a finished task is refused", late)
check(late.code == "UnsupportedOperation", "the refusal's code is parsed", late)

failed = VideoSynthesis.wait(bad)
check(failed.output.task_status == "FAILED", "it then FAILS", failed)
check(failed.output.code == "InvalidParameter", "the FAILED code is parsed", failed)
check("size" in (failed.output.message or ""), "the FAILED message is parsed", failed)

listed = VideoSynthesis.list(model_name=MODEL, page_size=10)
check(listed.status_code == HTTPStatus.OK, "list answers 200", listed)
data = listed.output["data"] if isinstance(listed.output, dict) else listed.output.data
check(len(data) == 3, "list shows the three tasks", listed)
check({d["task_id"] for d in data} == {first.output.task_id, second.output.task_id, bad.output.task_id}, "list ids match", data)

wrong = VideoSynthesis.async_call(model=MODEL, prompt=PROMPT, media=MEDIA, size="1280*720", duration=5, api_key="sk-wrong")
check(wrong.status_code == HTTPStatus.UNAUTHORIZED and wrong.code == "InvalidApiKey", "a wrong key gives 401 InvalidApiKey", wrong)

print("all SDK checks passed")
