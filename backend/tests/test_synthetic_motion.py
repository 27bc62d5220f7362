import numpy as np

from choreo.skeleton import bone_lengths

from synthetic_motion import facing_angles, rigid_dance


def test_rigid_dance_has_constant_bones_rigid_groups_and_a_big_turn():
    joints = rigid_dance()
    assert np.ptp(bone_lengths(joints), axis=0).max() < 1e-9
    for group, kids in ((0, (1, 2, 3)), (9, (12, 13, 14))):
        vecs = np.stack([joints[:, k] - joints[:, group] for k in kids], axis=1)
        gram = np.einsum("tki,tli->tkl", vecs, vecs)  # rigid <=> all pairwise dot products constant
        assert np.ptp(gram, axis=0).max() < 1e-9
    turn = facing_angles(joints)
    assert abs(turn[-1] - turn[0]) > np.pi
    assert np.linalg.norm(joints[-1, 0] - joints[0, 0]) > 1.0
