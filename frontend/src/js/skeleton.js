// The 22 SMPL body joints of choreo's motion (choreo.skeleton.JOINT_NAMES order) and their parents.
export const JOINT_NAMES = [
  "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2", "left_ankle",
  "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar", "right_collar", "head",
  "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
];
export const PARENTS = [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19];
export const PELVIS = 0, LEFT_HIP = 1, RIGHT_HIP = 2, HEAD = 15;
