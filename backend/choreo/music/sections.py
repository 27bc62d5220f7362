"""Sections: boundaries on bar lines, labels shared by repeats, and a kind for each.

1. Per bar, a feature vector: beat-synchronous chroma (harmony and melody, one 12-vector per beat),
   the mean MFCCs (timbre) and the loudness, each block weighted to count alike.
2. Boundaries: Foote's checkerboard novelty on the bar self-similarity matrix (cosine), at two kernel
   sizes (2 and 4 bars a side) summed; peaks at least MIN_BARS apart and above the novelty's median +
   PEAK_STD standard deviations. A stretch before the first bar longer than 2 s (a tempo-free intro,
   silence) is a section of its own.
3. Labels: two sections are the same material when their bars match one to one (mean similarity of
   aligned bars, best of shifts -1/0/+1 bar) at least SAME_LABEL; average-linkage clustering; letters
   by first appearance.
4. Kinds, by repetition, position and energy: the chorus is the repeated label with the highest
   energy (a near tie, within LAST_REPEAT_BONUS, goes to the label that repeats last); unique sections
   at the start are the intro, at the end the outro; a repeated label that sits between another
   repeated section and every chorus is the pre-chorus; a repeated label that always follows a chorus and
   is at least as loud as it (the chorus won by closing the song's repeats) is a dance break that comes
   back; the other repeated labels are verses; a unique section inside the song is a dance break when its
   energy is high, else a bridge.
5. Repair by repetition: two neighbours that together repeat another section are merged; a repeat one
   bar off its label's usual length has its end moved by that bar.
"""

from __future__ import annotations

import numpy as np

from choreo.music.features import Features, segment_mean
from choreo.music.song import Section

MIN_BARS = 2
PEAK_STD = 0.25
SAME_LABEL = 0.8
FREE_INTRO_S = 2.0
DANCE_BREAK_ENERGY = 0.6
LAST_REPEAT_BONUS = 0.05


def bar_features(features: Features, beats: np.ndarray, downbeats: np.ndarray, meter: int,
                 end: float) -> np.ndarray:
    """[bars, dims]: one row per bar, unit length per block, blocks equally weighted."""
    period = float(np.median(np.diff(beats))) if len(beats) > 1 else 0.5
    beat_bounds = np.append(beats, min(beats[-1] + period, end))
    chroma = segment_mean(features.chroma, beat_bounds, features.fps).T  # [beats, 12]
    chroma /= np.maximum(np.linalg.norm(chroma, axis=1, keepdims=True), 1e-9)
    bar_bounds = np.append(downbeats, min(downbeats[-1] + meter * period, end))
    mfcc = segment_mean(features.mfcc[1:], bar_bounds, features.fps).T  # [bars, 12], c0 is loudness
    loud = segment_mean(features.rms_db[None], bar_bounds, features.fps).T
    first = int(np.searchsorted(beats, downbeats[0] - 1e-6))
    rows = []
    for b in range(len(downbeats)):
        idx = first + b * meter + np.arange(meter)
        c = np.stack([chroma[i] if i < len(chroma) else np.zeros(12) for i in idx]).ravel()
        rows.append(c / max(np.linalg.norm(c), 1e-9))
    chroma_block = np.stack(rows)
    timbre = (mfcc - mfcc.mean(0)) / np.maximum(mfcc.std(0), 1e-9)
    timbre = np.hstack([timbre, 2 * (loud - loud.mean()) / max(loud.std(), 1e-9)])
    timbre /= np.sqrt(timbre.shape[1])
    return np.hstack([chroma_block, timbre])


def self_similarity(x: np.ndarray) -> np.ndarray:
    norm = np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)
    u = x / norm
    return u @ u.T


def novelty(ssm: np.ndarray, half: int) -> np.ndarray:
    """Foote's checkerboard novelty: (past×past + future×future) − (past×future) similarity per bar line."""
    n = len(ssm)
    out = np.zeros(n)
    for i in range(1, n):
        a, b = max(0, i - half), min(n, i + half)
        past, future = ssm[a:i, a:i], ssm[i:b, i:b]
        cross = ssm[a:i, i:b]
        out[i] = 0.5 * (past.mean() + future.mean()) - cross.mean()
    return out


def boundaries(ssm: np.ndarray) -> list[int]:
    """Bar indices where a new section starts (0 included)."""
    n = len(ssm)
    if n < 2 * MIN_BARS:
        return [0]
    nov = novelty(ssm, 2) + novelty(ssm, 4)
    nov[:MIN_BARS] = 0
    nov[n - MIN_BARS + 1 :] = 0
    threshold = np.median(nov[MIN_BARS:]) + PEAK_STD * nov[MIN_BARS:].std()
    peaks = []
    for i in np.argsort(nov)[::-1]:  # strongest first, keeping MIN_BARS apart
        if nov[i] <= threshold:
            break
        if nov[i] >= nov[max(0, i - 1) : i + 2].max() and all(abs(i - p) >= MIN_BARS for p in peaks):
            peaks.append(int(i))
    return [0, *sorted(peaks)]


def section_similarity(ssm: np.ndarray, a: tuple[int, int], b: tuple[int, int]) -> float:
    """Mean similarity of aligned bars of two bar ranges, best over shifts of -1, 0, +1 bar."""
    la, lb = a[1] - a[0], b[1] - b[0]
    best = -1.0
    for shift in (-1, 0, 1):
        n = min(la, lb - shift) if shift >= 0 else min(la + shift, lb)
        if n < max(1, min(la, lb) - 1):
            continue
        ia = a[0] + max(0, -shift) + np.arange(n)
        ib = b[0] + max(0, shift) + np.arange(n)
        ok = (ia < a[1]) & (ib < b[1])
        if ok.any():
            best = max(best, float(ssm[ia[ok], ib[ok]].mean()))
    ratio = min(la, lb) / max(la, lb)
    return best * (1.0 if ratio >= 0.5 else ratio / 0.5)  # very different lengths are not repeats


def merge_by_repeats(ssm: np.ndarray, starts: list[int]) -> list[int]:
    """Drop a boundary when the two sections it separates, taken together, repeat elsewhere while at
    least one of them alone does not (repetition explains the structure better than novelty)."""
    starts = list(starts)
    changed = True
    while changed and len(starts) > 2:
        changed = False
        ranges = list(zip(starts, [*starts[1:], len(ssm)], strict=True))
        for i in range(len(ranges) - 1):
            joined = (ranges[i][0], ranges[i + 1][1])
            size = joined[1] - joined[0]  # the repeat must be as long as the joined pair
            others = [r for k, r in enumerate(ranges) if k not in (i, i + 1) and abs(r[1] - r[0] - size) <= 1]
            best_joined = max((section_similarity(ssm, joined, r) for r in others), default=-1)
            alone = [max((section_similarity(ssm, ranges[j], r) for k, r in enumerate(ranges) if k != j),
                         default=-1) for j in (i, i + 1)]
            if best_joined >= SAME_LABEL and min(alone) < SAME_LABEL:
                del starts[i + 1]
                changed = True
                break
    return starts


def equalise_repeats(starts: list[int], ids: list[int], n_bars: int) -> list[int]:
    """Repeats of one label are as long as each other in pop: a repeat one bar longer or shorter than
    its label's most common length has its end moved by that bar when the next section keeps
    MIN_BARS (novelty peaks at a chorus's last bar are common where the next part starts early)."""
    starts = list(starts)
    ends = [*starts[1:], n_bars]
    for lab in set(ids):
        idx = [i for i, x in enumerate(ids) if x == lab]
        if len(idx) < 2:
            continue
        lengths = [ends[i] - starts[i] for i in idx]
        common = max(set(lengths), key=lengths.count)
        for i in idx:
            d = common - (ends[i] - starts[i])
            if abs(d) == 1 and i + 1 < len(starts) and ids[i + 1] != lab:
                next_end = ends[i + 1]
                if next_end - (starts[i + 1] + d) >= MIN_BARS:
                    starts[i + 1] += d
                    ends[i] += d
    return starts


def cluster_labels(sim: np.ndarray) -> list[int]:
    """Average-linkage clusters with similarity ≥ SAME_LABEL; ids in order of first appearance."""
    clusters = [[i] for i in range(len(sim))]
    while len(clusters) > 1:
        best, pair = -np.inf, None
        for x in range(len(clusters)):
            for y in range(x + 1, len(clusters)):
                s = float(np.mean([sim[i, j] for i in clusters[x] for j in clusters[y]]))
                if s > best:
                    best, pair = s, (x, y)
        if best < SAME_LABEL:
            break
        x, y = pair
        clusters[x] += clusters.pop(y)
    owner = {i: k for k, c in enumerate(clusters) for i in c}
    order = list(dict.fromkeys(owner[i] for i in range(len(sim))))
    return [order.index(owner[i]) for i in range(len(sim))]


def assign_kinds(labels: list[int], energy: list[float]) -> tuple[list[str], list[float]]:
    """A kind and a kind-confidence per section (rules in the module docstring)."""
    n = len(labels)
    count = {lab: labels.count(lab) for lab in labels}
    mean_e = {lab: float(np.mean([e for e, x in zip(energy, labels, strict=True) if x == lab])) for lab in count}
    repeated = [lab for lab in count if count[lab] >= 2]
    if repeated:
        last = labels[max(i for i in range(n) if count[labels[i]] >= 2)]
        # Energy first; a near tie goes to the label that also closes the song's repeats.
        ranked = sorted(repeated, key=lambda lab: mean_e[lab] + (LAST_REPEAT_BONUS if lab == last else 0.0),
                        reverse=True)
        chorus = ranked[0]
        margin = mean_e[ranked[0]] - (mean_e[ranked[1]] if len(ranked) > 1 else 0.0)
        chorus_conf = 0.9 if margin > 0.1 else 0.6
    else:
        chorus = labels[int(np.argmax(energy))]
        chorus_conf = 0.3
    kinds, conf = [""] * n, [0.5] * n
    first_rep = next((i for i in range(n) if count[labels[i]] >= 2), n)
    last_rep = max((i for i in range(n) if count[labels[i]] >= 2), default=-1)
    chorus_at = [i for i in range(n) if labels[i] == chorus]
    pre, breaks = set(), set()
    for lab in repeated:
        if lab == chorus:
            continue
        occ = [i for i in range(n) if labels[i] == lab]
        if all(i + 1 < n and labels[i + 1] == chorus and i > 0 and labels[i - 1] not in (chorus, lab)
               and count[labels[i - 1]] >= 2 for i in occ):
            pre.add(lab)
        # Loudness alone does not tell a verse from a break: above ~170 BPM the synthesized verses measure as
        # loud as their chorus (onset density saturates). A break also comes straight out of a chorus.
        elif mean_e[lab] >= max(DANCE_BREAK_ENERGY, mean_e[chorus]) and all(i > 0 and labels[i - 1] == chorus
                                                                           for i in occ):
            breaks.add(lab)
    for i, lab in enumerate(labels):
        if lab == chorus:
            kinds[i], conf[i] = "chorus", chorus_conf
        elif count[lab] == 1 and i < first_rep:
            kinds[i], conf[i] = "intro", 0.8
        elif count[lab] == 1 and i > last_rep:
            kinds[i], conf[i] = "outro", 0.8
        elif lab in pre:
            kinds[i], conf[i] = "pre-chorus", 0.7
        elif lab in breaks:
            kinds[i], conf[i] = "dance-break", 0.6
        elif count[lab] >= 2:
            kinds[i], conf[i] = "verse", 0.7
        elif chorus_at and i > chorus_at[0]:
            high = energy[i] >= DANCE_BREAK_ENERGY
            kinds[i], conf[i] = ("dance-break" if high else "bridge"), 0.6
        else:
            kinds[i], conf[i] = "verse", 0.4
    return kinds, conf


def find_sections(features: Features, beats: np.ndarray, downbeats: np.ndarray, meter: int, duration: float,
                  energy_of: callable) -> list[Section]:
    """Sections covering [0, duration]; `energy_of(start, end)` gives a stretch's mean energy."""
    if len(downbeats) < 2 * MIN_BARS:
        return [Section(0.0, duration, "A", "verse", energy_of(0.0, duration), 0.0)]
    ssm = self_similarity(bar_features(features, beats, downbeats, meter, duration))
    starts = merge_by_repeats(ssm, boundaries(ssm))
    ranges = list(zip(starts, [*starts[1:], len(ssm)], strict=True))
    sim = np.array([[section_similarity(ssm, a, b) for b in ranges] for a in ranges])
    ids = cluster_labels(sim)
    adjusted = equalise_repeats(starts, ids, len(ssm))
    if adjusted != starts:
        starts = adjusted
        ranges = list(zip(starts, [*starts[1:], len(ssm)], strict=True))
        sim = np.array([[section_similarity(ssm, a, b) for b in ranges] for a in ranges])
        ids = cluster_labels(sim)
    times = [float(downbeats[a]) for a, _ in ranges] + [duration]
    times[0] = 0.0
    prefix = downbeats[0] >= FREE_INTRO_S  # silence or a tempo-free intro before bar 1
    if prefix:
        times.insert(1, float(downbeats[0]))
        ids = [-1, *ids]
    energies = [energy_of(a, b) for a, b in zip(times[:-1], times[1:], strict=True)]
    kinds, kind_conf = assign_kinds(ids, energies)
    sections = []
    for i, lab in enumerate(ids):
        if lab == -1:
            label_conf = 1.0
        else:
            k = i - int(prefix)
            same = [sim[k, j] for j in range(len(ranges)) if j != k and ids[j + int(prefix)] == lab]
            other = [sim[k, j] for j in range(len(ranges)) if ids[j + int(prefix)] != lab]
            if same:
                label_conf = 0.5 + 0.5 * np.clip((np.mean(same) - SAME_LABEL) / (1 - SAME_LABEL), 0, 1)
            else:
                label_conf = 0.5 + 0.5 * np.clip((SAME_LABEL - max(other, default=0.0)) / SAME_LABEL, 0, 1)
        sections.append(Section(start=times[i], end=times[i + 1], label="", kind=kinds[i],
                                energy=round(float(energies[i]), 4),
                                confidence=round(float(min(label_conf, kind_conf[i])), 3)))
    letters = {lab: chr(ord("A") + k) for k, lab in enumerate(dict.fromkeys(ids))}
    for s, lab in zip(sections, ids, strict=True):
        s.label = letters[lab]
    return sections
