// The 3-D stage: the group's choreography.glb (a skinned capsule body per member, member colours, a stage
// floor, ONE animation) played by an AnimationMixer. The page sets the animation time from the song's
// <audio> element every frame (setTime), so picture and music cannot drift apart; the stage keeps no clock.
import * as THREE from "three";
import { GLTFLoader } from "three/addons/loaders/GLTFLoader.js";
import { OrbitControls } from "three/addons/controls/OrbitControls.js";
import { PARENTS, HEAD } from "./skeleton.js";

const BACKGROUND = 0x20232a;
const DIM_OPACITY = 0.18;

export class Stage {
  constructor(canvas, labels) {
    this.canvas = canvas;
    this.labelsEl = labels;
    this.renderer = new THREE.WebGLRenderer({ canvas, antialias: true, preserveDrawingBuffer: true });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
    this.scene = new THREE.Scene();
    this.scene.background = new THREE.Color(BACKGROUND);
    this.scene.add(new THREE.HemisphereLight(0xffffff, 0x444455, 2.2));
    const sun = new THREE.DirectionalLight(0xffffff, 1.8);
    sun.position.set(3, 8, 6);
    this.scene.add(sun);
    this.camera = new THREE.PerspectiveCamera(40, 16 / 9, 0.05, 300);
    this.controls = new OrbitControls(this.camera, canvas);
    this.controls.enableDamping = false;
    this.controls.target.set(0, 1, 0);
    this.camera.position.set(0, 2.2, 9);
    this.bounds = new THREE.Box3(new THREE.Vector3(-4, 0, -3), new THREE.Vector3(4, 2, 3));
    this.group = null; // the loaded glTF scene
    this.mixer = null;
    this.action = null;
    this.duration = 0;
    this.members = []; // {name, color (css), mesh, materials, label}
    this.focus = { index: -1, mode: null }; // mode: "highlight" | "solo" | null
    this.mirrored = false;
    this.time = 0;
    this.figures = null; // text → dance preview (joints), replaces the group while shown
    this._grid = new THREE.GridHelper(16, 16, 0x555a66, 0x3a3e48);
    this._grid.position.y = 0.001;
    this.scene.add(this._grid);
    this._head = new THREE.Vector3();
    new ResizeObserver(() => this.resize()).observe(canvas.parentElement);
    this.resize();
  }

  resize() {
    const el = this.canvas.parentElement;
    const w = Math.max(1, el.clientWidth), h = Math.max(1, el.clientHeight);
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
  }

  /** Load a choreography.glb; names label the members (from choreography.json; the glTF's node names are
   * sanitised by three.js). Resolves with the members ({name, color}). */
  async load(url, names = []) {
    const gltf = await new GLTFLoader().loadAsync(url);
    this.clear();
    const bodies = [];
    gltf.scene.traverse((o) => {
      // three.js culls a skinned mesh by the bounding sphere of its first pose; a member who travels
      // could vanish, so the bodies are never culled.
      if (o.isSkinnedMesh) { o.frustumCulled = false; bodies.push(o); }
    });
    const extras = gltf.parser?.json?.extras?.members || [];
    this.members = bodies.map((mesh, i) => {
      const materials = Array.isArray(mesh.material) ? mesh.material : [mesh.material];
      materials.forEach((m) => { m.userData.baseEmissive = m.emissive ? m.emissive.clone() : null; });
      const name = names[i] || extras[i] || `Member ${i + 1}`;
      const label = document.createElement("div");
      label.textContent = name;
      const color = `#${materials[0].color.getHexString()}`;
      label.style.color = color;
      this.labelsEl.appendChild(label);
      return { name, color, mesh, materials, label, head: mesh.skeleton.bones[HEAD] };
    });
    this.group = gltf.scene;
    this.scene.add(this.group);
    const floor = this.group.getObjectByName("stage_floor") || this.group.getObjectByName("stage floor");
    this.bounds = new THREE.Box3().setFromObject(floor || this.group);
    this.mixer = new THREE.AnimationMixer(this.group);
    const clip = gltf.animations[0];
    this.duration = clip ? clip.duration : 0;
    if (clip) {
      this.action = this.mixer.clipAction(clip);
      this.action.play();
    }
    this.setTime(0);
    this.applyFocus();
    return this.members.map(({ name, color }) => ({ name, color }));
  }

  clear() {
    if (this.group) {
      this.scene.remove(this.group);
      this.group.traverse((o) => {
        if (o.geometry) o.geometry.dispose();
        if (o.material) [].concat(o.material).forEach((m) => m.dispose());
      });
    }
    this.labelsEl.replaceChildren();
    this.group = this.mixer = this.action = null;
    this.members = [];
    this.duration = 0;
    this.time = 0;
    this.focus = { index: -1, mode: null };
  }

  /** Pose everyone at time t (seconds of the song). The last frame holds past the animation's end. */
  setTime(t) {
    if (!this.mixer) return;
    const clamped = Math.min(Math.max(t, 0), Math.max(this.duration - 1e-4, 0));
    this.mixer.setTime(clamped);
    this.time = clamped;
  }

  /** The time the bodies are posed at (the animation's own clock, for tests: it must equal the audio's). */
  animationTime() {
    return this.action ? this.action.time : this.time;
  }

  /** Highlight (others dimmed) or solo (others hidden) member i; mode null shows everyone. */
  setFocus(index, mode) {
    this.focus = mode ? { index, mode } : { index: -1, mode: null };
    this.applyFocus();
  }

  applyFocus() {
    const { index, mode } = this.focus;
    this.members.forEach((m, i) => {
      const other = mode && i !== index;
      m.mesh.visible = !(other && mode === "solo");
      for (const mat of m.materials) {
        mat.transparent = Boolean(other);
        mat.opacity = other ? DIM_OPACITY : 1;
        mat.depthWrite = !other;
        if (mat.emissive && mat.userData.baseEmissive) {
          if (mode && i === index) mat.emissive.copy(mat.color).multiplyScalar(0.35);
          else mat.emissive.copy(mat.userData.baseEmissive);
        }
        mat.needsUpdate = true;
      }
      m.label.classList.toggle("dim", Boolean(other));
      m.label.hidden = other && mode === "solo";
    });
  }

  setMirrored(on) {
    this.mirrored = on;
  }

  /** Camera presets: audience (front), top (audience at the bottom), side (from stage right), behind
   * (the dancers' own view, as when learning behind them). */
  view(name) {
    const b = this.bounds;
    const c = b.getCenter(new THREE.Vector3());
    const size = b.getSize(new THREE.Vector3());
    // Where the dancers are: the floor minus its margin (the writer adds 1.5 m around their paths).
    const width = Math.max(size.x - 2, 5), depth = Math.max(size.z - 2, 4);
    const vfov = THREE.MathUtils.degToRad(this.camera.fov);
    const hfov = 2 * Math.atan(Math.tan(vfov / 2) * this.camera.aspect);
    const fit = (w, h) => Math.max((w / 2) / Math.tan(hfov / 2), (h / 2) / Math.tan(vfov / 2)) * 1.05;
    const target = new THREE.Vector3(c.x, 0.9, c.z);
    let pos;
    if (name === "audience") pos = [c.x, 2.6, c.z + depth / 2 + fit(width, 2.6)];
    else if (name === "behind") pos = [c.x, 2.6, c.z - depth / 2 - fit(width, 2.6)];
    else if (name === "side") pos = [c.x - width / 2 - fit(depth, 2.6), 2.0, c.z];
    else if (name === "top") { target.y = 0; pos = [c.x, fit(width, depth) + 1, c.z + 0.02]; }
    else return;
    this.camera.position.set(...pos);
    this.controls.target.copy(target);
    this.controls.update();
  }

  render() {
    if (this.figures) this._updateFigures();
    this.renderer.render(this.scene, this.camera);
    this._placeLabels();
  }

  _placeLabels() {
    if (!this.members.length || this.figures) return;
    const w = this.canvas.clientWidth, h = this.canvas.clientHeight;
    const placed = [];
    for (const m of this.members) {
      if (m.label.hidden) continue;
      m.head.getWorldPosition(this._head);
      this._head.y += 0.32;
      this._head.project(this.camera);
      if (this._head.z > 1) { m.label.style.display = "none"; continue; } // behind the camera
      let x = (this._head.x * 0.5 + 0.5) * w;
      if (this.mirrored) x = w - x;
      placed.push({ m, x, y: (-this._head.y * 0.5 + 0.5) * h, depth: this._head.z });
    }
    // Nearer members' names first; a name that would cover another moves up above it.
    placed.sort((a, b) => a.depth - b.depth);
    const boxes = [];
    for (const p of placed) {
      const lw = p.m.label.offsetWidth || 60, lh = (p.m.label.offsetHeight || 16) + 2;
      let y = p.y;
      for (let moved = true, guard = 0; moved && guard < 12; guard++) {
        moved = false;
        for (const b of boxes) {
          if (Math.abs(b.x - p.x) < (b.w + lw) / 2 && y > b.y - lh && y < b.y + b.h) { y = b.y - lh; moved = true; }
        }
      }
      boxes.push({ x: p.x, y, w: lw, h: lh });
      p.m.label.style.display = "";
      p.m.label.style.left = `${p.x}px`;
      p.m.label.style.top = `${y}px`;
    }
  }

  /** Text → dance preview: one capsule figure per sample from joints [samples][frames][22][3] at fps,
   * side by side; the group is hidden meanwhile. Its clock is the page's (a motion has no song). */
  showFigures(samples, fps) {
    this.hideFigures();
    const root = new THREE.Group();
    const colors = [0xe63346, 0x2673e6, 0xf2b31a, 0x33b359, 0x994dd9, 0xf27326, 0x1abfcc, 0xe659a6];
    const figures = samples.map((joints, s) => {
      const mat = new THREE.MeshStandardMaterial({ color: colors[s % colors.length], roughness: 0.6 });
      const bones = PARENTS.map((p, j) => {
        if (p < 0) return null;
        const mesh = new THREE.Mesh(new THREE.CylinderGeometry(0.045, 0.045, 1, 10), mat);
        root.add(mesh);
        return { mesh, j, p };
      }).filter(Boolean);
      const head = new THREE.Mesh(new THREE.SphereGeometry(0.1, 16, 12), mat);
      root.add(head);
      const offset = (s - (samples.length - 1) / 2) * 1.4;
      return { joints, bones, head, offset };
    });
    this.scene.add(root);
    if (this.group) this.group.visible = false;
    this.labelsEl.hidden = true;
    this.figures = { root, figures, fps, start: performance.now(), paused: false, at: 0 };
    this.canvas.parentElement.classList.add("motion");
    // Close enough to see the moves: the figures stand side by side around the centre.
    this.camera.position.set(0, 1.7, 4.2 + 0.8 * samples.length);
    this.controls.target.set(0, 0.9, 0);
    this.controls.update();
  }

  toggleFigures() {
    const f = this.figures;
    if (!f) return;
    if (f.paused) { f.start = performance.now() - f.at * 1000; f.paused = false; } else { f.paused = true; }
  }

  hideFigures() {
    if (!this.figures) return;
    this.scene.remove(this.figures.root);
    this.figures.root.traverse((o) => { if (o.geometry) o.geometry.dispose(); });
    this.figures = null;
    this.canvas.parentElement.classList.remove("motion");
    if (this.group) this.group.visible = true;
    this.labelsEl.hidden = false;
  }

  _updateFigures() {
    const f = this.figures;
    const frames = f.figures[0].joints.length;
    if (!f.paused) f.at = ((performance.now() - f.start) / 1000) % (frames / f.fps);
    const k = Math.min(frames - 1, Math.floor(f.at * f.fps));
    const a = new THREE.Vector3(), b = new THREE.Vector3(), up = new THREE.Vector3(0, 1, 0);
    for (const fig of f.figures) {
      const pose = fig.joints[k];
      for (const { mesh, j, p } of fig.bones) {
        a.fromArray(pose[p]); b.fromArray(pose[j]);
        a.x += fig.offset; b.x += fig.offset;
        const len = a.distanceTo(b);
        mesh.position.copy(a).add(b).multiplyScalar(0.5);
        mesh.scale.set(1, Math.max(len, 1e-3), 1);
        mesh.quaternion.setFromUnitVectors(up, b.sub(a).normalize());
      }
      fig.head.position.fromArray(pose[HEAD]);
      fig.head.position.x += fig.offset;
      fig.head.position.y += 0.06;
    }
  }
}
