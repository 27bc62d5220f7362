"""A screenshot of the studio at 1280x720 with Debian's chromium (docs/images/studio.png).

    python frontend/tools/screenshot.py "http://127.0.0.1:8000/?job=ID" docs/images/studio.png --at 24 --tab sections
    python frontend/tools/screenshot.py "http://127.0.0.1:8000/?job=ID" docs/images/studio-moves.png --tab moves \
        --select 9.09 10.91 --pick hook --place 24.5 --at 8.9

Opens the address, waits until the dance is ready; with --select selects the beats nearest START and END (as [ and
] at the playhead do), with --pick and --place picks a library move and clicks the timeline at --place seconds
(a placement not danced yet); seeks to --at seconds (paused) and saves the page.
Needs Playwright for Python (the project's test environment) and /usr/bin/chromium; downloads nothing.
"""

from __future__ import annotations

import argparse

from playwright.sync_api import sync_playwright


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url")
    ap.add_argument("out")
    ap.add_argument("--at", type=float, default=0.0, help="song time in seconds")
    ap.add_argument("--tab", default="sections", choices=["make", "sections", "moves", "text", "files", "jobs"])
    ap.add_argument("--view", default="audience", choices=["audience", "top", "side", "behind"])
    ap.add_argument("--select", type=float, nargs=2, metavar=("START", "END"), help="select this span (s)")
    ap.add_argument("--pick", help="a move of the library to place (Moves tab)")
    ap.add_argument("--place", type=float, help="where to place the picked move (s; snaps to the nearest beat)")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    args = ap.parse_args()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=[
            "--no-sandbox", "--disable-background-networking", "--use-angle=swiftshader"])
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.goto(args.url)
        page.wait_for_function("window.studio && window.studio.ready", timeout=120_000)
        page.click(f"#tabs [data-tab={args.tab}]")
        page.click(f"[data-view={args.view}]")
        seek = """async (t) => {
            const a = document.getElementById('song');
            const done = new Promise((r) => a.addEventListener('seeked', r, { once: true }));
            window.studio.seek(t);
            await done;
        }"""
        if args.select:
            page.focus("#timeline")
            for t, key in zip(args.select, "[]", strict=True):
                page.evaluate(seek, t)
                page.keyboard.press(key)
        if args.pick and args.place is not None:
            page.click(f"#move-list li[data-move={args.pick}] .pick")
            box = page.locator("#timeline").bounding_box()
            x = page.evaluate("(t) => studio.timeX(t)", args.place)
            count = page.evaluate("studio.placements().length")
            page.mouse.click(box["x"] + x, box["y"] + box["height"] * 0.6)
            page.wait_for_function(f"studio.placements().length > {count}")
        page.evaluate("""async (t) => {
            const a = document.getElementById('song');
            const done = new Promise((r) => a.addEventListener('seeked', r, { once: true }));
            window.studio.seek(t);
            await done;
            for (let i = 0; i < 3; i++) await new Promise((r) => requestAnimationFrame(r));
        }""", args.at)
        page.wait_for_timeout(1500)  # the waveform is decoded in the background
        page.screenshot(path=args.out)
        browser.close()


if __name__ == "__main__":
    main()
