"""The browser half of `make e2e`, run with the Open WebUI venv's Python (it has Playwright):
Debian's chromium, headless, signs in, and for each (model, prompt, expected answer) opens a new
chat, picks the model, sends the prompt and waits for the answer on screen. Prints one JSON line
per chat: {"model", "chat_id", "seen"}; screenshots go to the out directory. The browser starts
at once, and signs in when the chats arrive on stdin (one JSON line: the services are ready); at
end of input it exits.

    python tests/e2e/browser.py <base url> <email> <password> <out dir>  < <chats json line>
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
import time
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 60_000


def sign_in(page: Page, base: str, email: str, password: str, out: Path) -> None:
    page.goto(f"{base}/auth")
    page.fill("input[type=email], input[name=email]", email)
    page.fill("input[type=password]", password)
    page.screenshot(path=str(out / "01-sign-in.png"))
    page.get_by_role("button", name=re.compile("sign in", re.I)).click()
    page.wait_for_url(re.compile(r".*/(\?.*)?$"), timeout=TIMEOUT_MS)
    page.locator("#chat-input").wait_for(timeout=TIMEOUT_MS)
    dismiss_dialogs(page)


def dismiss_dialogs(page: Page) -> None:
    """The "what's new" changelog a new user gets on first sign-in."""
    dialog = page.locator("div[role=dialog]")
    for _ in range(3):
        if not dialog.count() or not dialog.first.is_visible():
            return
        button = dialog.get_by_role("button", name=re.compile("okay|let's go|close", re.I))
        if button.count():
            button.first.click()
        else:
            page.keyboard.press("Escape")
        with contextlib.suppress(PlaywrightTimeout):  # closed, or another one: the loop looks again
            dialog.first.wait_for(state="hidden", timeout=2_000)


def chat(page: Page, base: str, model: str, prompt: str, expected: str, shot: Path) -> str:
    page.goto(f"{base}/?models={model}")
    box = page.locator("#chat-input")
    box.wait_for(timeout=TIMEOUT_MS)
    dismiss_dialogs(page)
    # Open WebUI falls back to another model when the requested one is not offered: say so
    expect(page.get_by_text(model, exact=True).first,
           f"{model} is not among the models Open WebUI offers (its connections' /models)").to_be_visible()
    box.click()
    page.keyboard.type(prompt)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/c/[0-9a-f-]+"), timeout=TIMEOUT_MS)
    expect(page.get_by_text(expected).first).to_be_visible(timeout=TIMEOUT_MS)
    page.screenshot(path=str(shot), full_page=True)
    return page.url.rsplit("/c/", 1)[1].split("?")[0]


def main(base: str, email: str, password: str, out_dir: str) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.set_default_timeout(TIMEOUT_MS)
        chats_json = sys.stdin.readline()
        if not chats_json:
            browser.close()
            return
        try:
            started = time.monotonic()
            sign_in(page, base, email, password, out)
            print(json.dumps({"signed_in": round(time.monotonic() - started, 1)}), flush=True)
            for i, item in enumerate(json.loads(chats_json), start=2):
                shot = out / f"{i:02d}-{item['label']}.png"
                started = time.monotonic()
                chat_id = chat(page, base, item["model"], item["prompt"], item["expected"], shot)
                print(json.dumps({"model": item["model"], "chat_id": chat_id, "seen": item["expected"],
                                  "seconds": round(time.monotonic() - started, 1)}), flush=True)
        except Exception:
            page.screenshot(path=str(out / "failure.png"), full_page=True)
            raise
        finally:
            browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:5])
