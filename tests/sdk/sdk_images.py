"""Drives the fake's image models with the official Python SDK (dashscope==2.0.2): the old
protocol through ImageSynthesis (text2image / image2image paths), the messages protocol through
ImageGeneration (image-generation/generation). Run by tests/sdk_compat.rs against a quick fake.
"""
import sys
from http import HTTPStatus

from dashscope import ImageSynthesis
from dashscope.aigc.image_generation import ImageGeneration


def check(cond, what, resp=None):
    if not cond:
        print(f"FAIL: {what}: {resp}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {what}")


t2i = ImageSynthesis.async_call(
    model="wan2.5-t2i-preview", prompt="a red kite over hills", n=2, size="1280*1280", seed=3, prompt_extend=False
)
check(t2i.status_code == HTTPStatus.OK and t2i.output.task_status == "PENDING", "text2image async_call", t2i)
done = ImageSynthesis.wait(t2i)
check(done.output.task_status == "SUCCEEDED", "text2image ends SUCCEEDED", done)
check(len(done.output.results) == 2, "two results", done)
check(all(r.url.endswith(".png") for r in done.output.results), "results parse with a url", done)
check(done.usage.image_count == 2, "usage.image_count is parsed", done)

i2i = ImageSynthesis.async_call(
    model="wan2.5-i2i-preview", prompt="the kite in a storm", images=[done.output.results[0].url], n=1
)
check(i2i.status_code == HTTPStatus.OK, "image2image async_call (the SDK picks the path)", i2i)
check(ImageSynthesis.wait(i2i).output.task_status == "SUCCEEDED", "image2image ends SUCCEEDED", i2i)

messages = [{"role": "user", "content": [{"text": "a lighthouse at dusk"}]}]
gen = ImageGeneration.async_call(model="wan2.7-image", messages=messages, n=2, size="1K", seed=1)
check(gen.status_code == HTTPStatus.OK and gen.output.task_id, "image-generation async_call", gen)
done = ImageGeneration.wait(gen)
check(done.status_code == HTTPStatus.OK and done.output.task_status == "SUCCEEDED", "image-generation ends", done)
images = [c["image"] for ch in done.output.choices for c in ch.message.content if "image" in c]
check(len(images) == 2 and all(i.endswith(".png") for i in images), "choices parse with images", done)

too_many = ImageGeneration.async_call(model="wan2.7-image", messages=messages, n=5)
check(too_many.status_code == HTTPStatus.BAD_REQUEST and too_many.code == "InvalidParameter", "n over 4 refused", too_many)

print("all SDK image checks passed")
