"""Quaternion and rotation helpers on numpy arrays.

Quaternions are (w, x, y, z) with the Hamilton product; every function broadcasts over leading axes.
"""

from __future__ import annotations

import numpy as np

_EPS = 1e-12


def qmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product a * b."""
    aw, ax, ay, az = np.moveaxis(a, -1, 0)
    bw, bx, by, bz = np.moveaxis(b, -1, 0)
    return np.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        axis=-1,
    )


def qinv(q: np.ndarray) -> np.ndarray:
    """Inverse of a unit quaternion (its conjugate)."""
    return q * np.array([1.0, -1.0, -1.0, -1.0], dtype=q.dtype)


def qrot(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate vectors v [...,3] by unit quaternions q [...,4]: v + 2w(u x v) + 2u x (u x v)."""
    q, v = np.broadcast_arrays(q, np.concatenate([v, v[..., :1]], axis=-1))
    v = v[..., :3]
    w, u = q[..., :1], q[..., 1:]
    uv = np.cross(u, v)
    return v + 2.0 * (w * uv + np.cross(u, uv))


def qnormalize(q: np.ndarray) -> np.ndarray:
    return q / np.maximum(np.linalg.norm(q, axis=-1, keepdims=True), _EPS)


def qbetween(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The unit quaternion that rotates direction a onto direction b (shortest arc)."""
    a, b = np.broadcast_arrays(a, b)
    w = np.sqrt((a * a).sum(-1) * (b * b).sum(-1)) + (a * b).sum(-1)
    q = np.concatenate([w[..., None], np.cross(a, b)], axis=-1)
    # Opposite vectors: any axis perpendicular to a works; pick one deterministically.
    opposite = w < 1e-9 * np.maximum(np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1), _EPS)
    if np.any(opposite):
        a_op = a[opposite]
        axis = np.cross(a_op, np.array([1.0, 0.0, 0.0]))
        small = np.linalg.norm(axis, axis=-1) < 1e-6
        axis[small] = np.cross(a_op[small], np.array([0.0, 1.0, 0.0]))
        q[opposite] = np.concatenate([np.zeros((len(axis), 1)), axis], axis=-1)
    return qnormalize(q)


def qyaw(angle: np.ndarray) -> np.ndarray:
    """Quaternion of a rotation by `angle` radians about +Y."""
    half = 0.5 * np.asarray(angle)
    zeros = np.zeros_like(half)
    return np.stack([np.cos(half), zeros, np.sin(half), zeros], axis=-1)


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """Unit quaternions [...,4] -> rotation matrices [...,3,3]."""
    w, x, y, z = np.moveaxis(q, -1, 0)
    m = np.stack(
        [
            1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
            2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
            2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
        ],
        axis=-1,
    )
    return m.reshape(q.shape[:-1] + (3, 3))


def matrix_to_quat(m: np.ndarray) -> np.ndarray:
    """Rotation matrices [...,3,3] -> unit quaternions [...,4] with w >= 0."""
    m00, m11, m22 = m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]
    # Squared magnitudes of each component from the diagonal; take the largest for stability.
    cand = np.stack(
        [1 + m00 + m11 + m22, 1 + m00 - m11 - m22, 1 - m00 + m11 - m22, 1 - m00 - m11 + m22], axis=-1
    )
    best = np.argmax(cand, axis=-1)
    q = np.empty(m.shape[:-2] + (4,))
    s = np.sqrt(np.maximum(np.take_along_axis(cand, best[..., None], -1)[..., 0], _EPS)) * 2  # 4*|comp|
    for k in range(4):
        sel = best == k
        if not np.any(sel):
            continue
        mm, ss = m[sel], s[sel]
        if k == 0:
            comp = [ss / 4, (mm[:, 2, 1] - mm[:, 1, 2]) / ss, (mm[:, 0, 2] - mm[:, 2, 0]) / ss,
                    (mm[:, 1, 0] - mm[:, 0, 1]) / ss]
        elif k == 1:
            comp = [(mm[:, 2, 1] - mm[:, 1, 2]) / ss, ss / 4, (mm[:, 0, 1] + mm[:, 1, 0]) / ss,
                    (mm[:, 0, 2] + mm[:, 2, 0]) / ss]
        elif k == 2:
            comp = [(mm[:, 0, 2] - mm[:, 2, 0]) / ss, (mm[:, 0, 1] + mm[:, 1, 0]) / ss, ss / 4,
                    (mm[:, 1, 2] + mm[:, 2, 1]) / ss]
        else:
            comp = [(mm[:, 1, 0] - mm[:, 0, 1]) / ss, (mm[:, 0, 2] + mm[:, 2, 0]) / ss,
                    (mm[:, 1, 2] + mm[:, 2, 1]) / ss, ss / 4]
        q[sel] = np.stack(comp, axis=-1)
    q = qnormalize(q)
    return np.where(q[..., :1] < 0, -q, q)


def quat_to_cont6d(q: np.ndarray) -> np.ndarray:
    """The continuous 6D rotation: the first two columns of the matrix, [R00,R10,R20,R01,R11,R21]."""
    m = quat_to_matrix(q)
    return np.concatenate([m[..., :, 0], m[..., :, 1]], axis=-1)


def cont6d_to_matrix(d6: np.ndarray) -> np.ndarray:
    """6D -> rotation matrix by Gram-Schmidt (columns x, y, z = x cross y)."""
    x = d6[..., 0:3]
    x = x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), _EPS)
    y = d6[..., 3:6]
    y = y - (x * y).sum(-1, keepdims=True) * x
    y = y / np.maximum(np.linalg.norm(y, axis=-1, keepdims=True), _EPS)
    z = np.cross(x, y)
    return np.stack([x, y, z], axis=-1)


def cont6d_to_quat(d6: np.ndarray) -> np.ndarray:
    return matrix_to_quat(cont6d_to_matrix(d6))
