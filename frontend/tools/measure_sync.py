"""How closely the studio's animation follows its audio clock, in a real browser (docs/STUDIO.md, "Measured").

    python frontend/tools/measure_sync.py http://127.0.0.1:8000 JOB_ID

Opens /?job=JOB_ID at 1280x720 in Debian's chromium (software WebGL), prints the time until the dance is
ready, then plays from 10 s at 1x and at 0.5x and reads `studio.audioTime() - studio.animationTime()` and
the frame interval in 150 consecutive animation frames each. Needs Playwright for Python; downloads nothing.
"""

from __future__ import annotations

import argparse
import time

from playwright.sync_api import sync_playwright

SAMPLE = """async (n) => {
    const out = [];
    let last = performance.now();
    for (let i = 0; i < n; i++) {
        await new Promise((r) => requestAnimationFrame(r));
        const now = performance.now();
        out.push([window.studio.audioTime() - window.studio.animationTime(), now - last]);
        last = now;
    }
    return out;
}"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("base", help="the service, e.g. http://127.0.0.1:8000")
    ap.add_argument("job")
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    args = ap.parse_args()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=[
            "--no-sandbox", "--disable-background-networking", "--use-angle=swiftshader",
            "--autoplay-policy=no-user-gesture-required"])
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        start = time.monotonic()
        page.goto(f"{args.base}/?job={args.job}")
        page.wait_for_function("window.studio.ready", polling=50, timeout=120_000)
        print(f"ready to play after {time.monotonic() - start:.2f} s")
        for rate in ("1", "0.5"):
            page.select_option("#speed", rate)
            page.evaluate("studio.seek(10)")
            page.click("#play")
            page.wait_for_function("window.studio.audioTime() > 10.3")
            rows = page.evaluate(SAMPLE, args.frames)
            page.evaluate("studio.pause()")
            diff = sorted(abs(d) * 1000 for d, _ in rows)
            frame = sorted(f for _, f in rows)
            print(f"{rate}x: |audio - animation| median {diff[len(diff) // 2]:.1f} ms, max {diff[-1]:.1f} ms; "
                  f"frame interval median {frame[len(frame) // 2]:.0f} ms, "
                  f"95th percentile {frame[int(0.95 * len(frame))]:.0f} ms")
        browser.close()


if __name__ == "__main__":
    main()
