// Play a .glb the way a web page would: three.js GLTFLoader + AnimationMixer, in Node (no browser needed).
// Usage: node three_play.mjs FILE.glb TIME [TIME ...]
// Prints JSON: {animations, members: [{name, body, bones, joints: [per time [22][3]], vertices: [per time [V][3]]}]}
// where joints are the skin's bones' world positions and vertices the skinned (CPU) vertex positions.
import { readFileSync } from "node:fs";
import * as THREE from "three";
import { GLTFLoader } from "three/examples/jsm/loaders/GLTFLoader.js";

const [file, ...timeArgs] = process.argv.slice(2);
if (!file || timeArgs.length === 0) {
  console.error("usage: node three_play.mjs FILE.glb TIME [TIME ...]");
  process.exit(2);
}
const bytes = readFileSync(file);
const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
const gltf = await new Promise((resolve, reject) => new GLTFLoader().parse(buffer, "", resolve, reject));
const scene = gltf.scene;
const mixer = new THREE.AnimationMixer(scene);
for (const clip of gltf.animations) mixer.clipAction(clip).play();

const meshes = [];
scene.traverse((o) => { if (o.isSkinnedMesh) meshes.push(o); });
const members = meshes.map((mesh) => ({
  name: mesh.skeleton.bones[0].parent.name,
  body: mesh.name,
  bones: mesh.skeleton.bones.map((b) => b.name),
  joints: [],
  vertices: [],
}));
const v = new THREE.Vector3();
for (const t of timeArgs.map(Number)) {
  mixer.setTime(t);
  scene.updateMatrixWorld(true);
  meshes.forEach((mesh, m) => {
    mesh.skeleton.update();
    members[m].joints.push(mesh.skeleton.bones.map((b) => b.getWorldPosition(v).toArray()));
    const count = mesh.geometry.attributes.position.count;
    const verts = [];
    for (let i = 0; i < count; i++) verts.push(mesh.getVertexPosition(i, v).applyMatrix4(mesh.matrixWorld).toArray());
    members[m].vertices.push(verts);
  });
}
const animations = gltf.animations.map((a) => ({ name: a.name, duration: a.duration, tracks: a.tracks.length }));
console.log(JSON.stringify({ animations, members }));
