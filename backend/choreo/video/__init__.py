"""Dance-practice videos → `Motion`s: decode (ffmpeg of imageio-ffmpeg), detect 3-D pose per frame
(mediapipe's legacy `solutions.pose`, the optional extra `choreo[video]`), retarget the 33 landmarks onto
our 22-joint skeleton, smooth without lag, keep left/right consistent, fill short gaps and cut long ones,
recover root travel from the 2-D track and the ground contact, and report how usable the capture is.

Importing this package needs only numpy: mediapipe is imported when a video is actually decoded.
"""

from __future__ import annotations

VIDEO_SUFFIXES = (".mp4", ".mov", ".webm", ".mkv", ".m4v", ".avi")
