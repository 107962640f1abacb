//! A simulated disk that can lose power: an in-memory [`Fs`] that keeps,
//! per file, what is durable and what is only in the page cache, and per
//! directory, which creates, renames and unlinks are durable.
//!
//! - A file's data becomes durable when its backend's `sync_data` or
//!   `Fs::sync_file` returns; until then every `write` and `set_len` is a
//!   pending operation of that file (inode).
//! - A directory operation (create, mkdir, rename, unlink, rmdir) is a
//!   pending operation of the directories it touches until `sync_dir` of
//!   one of them returns (a rename is atomic: made durable whole).
//! - A power cut ([`SimFs::cut`]) makes an image of what survives: the
//!   durable state, plus, in the [`Loss::Random`] variant, a random subset
//!   of the pending operations (file writes kept or lost page by page, in
//!   any order; directory operations kept or lost one by one, in order),
//!   as a real disk and a real kernel can. [`Loss::All`] drops every
//!   pending operation.
//! - [`Planted`] bugs swallow one kind of sync, as if the engine skipped it.
//!
//! Every mutating operation counts as one step; [`SimFs::set_cuts`] makes
//! the disk take an image just before the chosen steps, so one run of a
//! scenario yields many power cuts, each checked on its own copy.

#![allow(dead_code)]

use pledgedb::{DirEntry, FileKind, Fs, Metadata};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// A page of a pending write: what a disk writes or loses as one.
const PAGE: usize = 4096;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Node {
    Dir,
    File(u64),
}

#[derive(Clone, Debug)]
enum DataOp {
    Write(u64, Vec<u8>),
    SetLen(u64),
}

#[derive(Clone, Debug, Default)]
struct Inode {
    /// What the page cache holds (what reads see).
    data: Vec<u8>,
    /// What survives a power cut for sure.
    durable: Vec<u8>,
    /// Writes since the last sync, in order.
    pending: Vec<DataOp>,
}

#[derive(Clone, Debug)]
enum MetaOp {
    Create(PathBuf, u64),
    Mkdir(PathBuf),
    Rename(PathBuf, PathBuf),
    Unlink(PathBuf),
    Rmdir(PathBuf),
}

impl MetaOp {
    /// The directories whose entries the operation changes.
    fn dirs(&self) -> Vec<PathBuf> {
        match self {
            MetaOp::Create(p, _) | MetaOp::Mkdir(p) | MetaOp::Unlink(p) | MetaOp::Rmdir(p) => {
                vec![parent(p)]
            }
            MetaOp::Rename(a, b) => vec![parent(a), parent(b)],
        }
    }
}

fn parent(p: &Path) -> PathBuf {
    p.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Applies a directory operation to a name tree, as far as it can (a
/// rename whose source never became durable still links the target: the
/// inode exists either way).
fn apply(tree: &mut BTreeMap<PathBuf, Node>, op: &MetaOp) {
    let has_parent = |tree: &BTreeMap<PathBuf, Node>, p: &Path| {
        let d = parent(p);
        d.as_os_str().is_empty() || d == Path::new("/") || tree.get(&d) == Some(&Node::Dir)
    };
    match op {
        MetaOp::Create(p, ino) => {
            if has_parent(tree, p) {
                tree.insert(p.clone(), Node::File(*ino));
            }
        }
        MetaOp::Mkdir(p) => {
            if has_parent(tree, p) {
                tree.entry(p.clone()).or_insert(Node::Dir);
            }
        }
        MetaOp::Unlink(p) => {
            if matches!(tree.get(p), Some(Node::File(_))) {
                tree.remove(p);
            }
        }
        MetaOp::Rmdir(p) => {
            let children = tree.keys().any(|k| k != p && k.starts_with(p));
            if tree.get(p) == Some(&Node::Dir) && !children {
                tree.remove(p);
            }
        }
        MetaOp::Rename(a, b) => {
            if !has_parent(tree, b) {
                return;
            }
            let moved: Vec<(PathBuf, Node)> = tree
                .iter()
                .filter(|(k, _)| k.starts_with(a))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if moved.is_empty() {
                return;
            }
            for (k, _) in &moved {
                tree.remove(k);
            }
            for (k, v) in moved {
                let rest = k.strip_prefix(a).unwrap();
                let to = if rest.as_os_str().is_empty() {
                    b.clone()
                } else {
                    b.join(rest)
                };
                tree.insert(to, v);
            }
        }
    }
}

/// What a power cut keeps of what was not synced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    /// Nothing un-synced survives.
    All,
    /// Each pending page write and each pending directory operation
    /// survives with probability one half.
    Random,
}

/// A sync the disk swallows, as if the engine had skipped it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Planted {
    /// Every sync of a file while it is named `*.tmp` (a rewritten file
    /// before its rename).
    NoSyncBeforeRename,
    /// The directory sync right after each rename.
    NoDirSyncAfterRename,
    /// The directory sync right after the rename of a rewritten file
    /// (`*.tmp` over the original) only.
    NoDirSyncAfterRewrite,
    /// Every sync of a file while it is named `*.new` (a new file renamed
    /// into place before its header is durable).
    RenameBeforeHeaderDurable,
}

/// The surviving state of a disk after a power cut.
#[derive(Clone, Debug)]
pub struct Image {
    /// The step before which power was cut.
    pub step: u64,
    /// What the scenario had been told by then (set by the driver).
    pub note: u64,
    pub loss: Loss,
    tree: BTreeMap<PathBuf, Node>,
    files: HashMap<u64, Vec<u8>>,
}

impl Image {
    /// Every file that survives, with its bytes.
    pub fn files(&self) -> Vec<(PathBuf, &[u8])> {
        self.tree
            .iter()
            .filter_map(|(p, n)| match n {
                Node::File(ino) => Some((p.clone(), self.files[ino].as_slice())),
                Node::Dir => None,
            })
            .collect()
    }
}

#[derive(Debug, Default)]
struct State {
    inodes: HashMap<u64, Inode>,
    next_ino: u64,
    tree: BTreeMap<PathBuf, Node>,
    /// The durable tree, up to the first pending directory operation.
    base: BTreeMap<PathBuf, Node>,
    /// Directory operations not folded into `base`, each with whether a
    /// directory sync made it durable.
    meta: Vec<(MetaOp, bool)>,
    steps: u64,
    cuts: BTreeSet<u64>,
    /// Chance that power is cut before any one step.
    cut_chance: f64,
    images: Vec<Image>,
    note: u64,
    rng: Option<StdRng>,
    planted: Option<Planted>,
    /// Directories whose next sync is swallowed (NoDirSyncAfterRename).
    skip_dir_sync: BTreeSet<PathBuf>,
    /// Syncs swallowed by a planted bug.
    swallowed: u64,
}

/// The simulated disk. Cheap to clone (shared state).
#[derive(Clone, Debug, Default)]
pub struct SimFs(Arc<Mutex<State>>);

fn not_found() -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, "no such file or directory")
}

fn norm(p: &Path) -> PathBuf {
    p.components().collect()
}

impl SimFs {
    /// An empty disk with a root directory `/`.
    pub fn new(seed: u64) -> SimFs {
        let mut st = State {
            rng: Some(StdRng::seed_from_u64(seed)),
            ..State::default()
        };
        st.tree.insert(PathBuf::from("/"), Node::Dir);
        st.base = st.tree.clone();
        SimFs(Arc::new(Mutex::new(st)))
    }

    /// A disk holding exactly what an image kept, all of it durable.
    pub fn from_image(image: &Image, seed: u64) -> SimFs {
        let fs = SimFs::new(seed);
        {
            let mut st = fs.lock();
            st.tree = image.tree.clone();
            st.base = image.tree.clone();
            for (ino, bytes) in &image.files {
                st.inodes.insert(
                    *ino,
                    Inode {
                        data: bytes.clone(),
                        durable: bytes.clone(),
                        pending: Vec::new(),
                    },
                );
            }
            st.next_ino = image.files.keys().max().map_or(0, |m| m + 1);
        }
        fs
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Plants a bug: the disk swallows one kind of sync.
    pub fn plant(&self, bug: Planted) {
        self.lock().planted = Some(bug);
    }

    /// How many syncs a planted bug swallowed.
    pub fn swallowed(&self) -> u64 {
        self.lock().swallowed
    }

    /// Takes an image just before each of these steps.
    pub fn set_cuts(&self, cuts: BTreeSet<u64>) {
        self.lock().cuts = cuts;
    }

    /// Cuts power before each step with this chance.
    pub fn set_cut_chance(&self, p: f64) {
        self.lock().cut_chance = p;
    }

    /// Steps so far (mutating operations).
    pub fn steps(&self) -> u64 {
        self.lock().steps
    }

    /// Records what the scenario has been told so far; every image taken
    /// after this carries it.
    pub fn note(&self, n: u64) {
        self.lock().note = n;
    }

    /// The images taken so far.
    pub fn take_images(&self) -> Vec<Image> {
        std::mem::take(&mut self.lock().images)
    }

    /// Cuts power now: the image of what survives.
    pub fn cut(&self, loss: Loss) -> Image {
        let mut st = self.lock();
        let step = st.steps;
        make_image(&mut st, step, loss)
    }

    /// The bytes of a file, as reads see them.
    pub fn read_file(&self, path: &Path) -> Option<Vec<u8>> {
        let st = self.lock();
        match st.tree.get(&norm(path)) {
            Some(Node::File(ino)) => Some(st.inodes[ino].data.clone()),
            _ => None,
        }
    }

    /// Every file and its bytes, as reads see them.
    pub fn all_files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let st = self.lock();
        st.tree
            .iter()
            .filter_map(|(p, n)| match n {
                Node::File(ino) => Some((p.clone(), st.inodes[ino].data.clone())),
                Node::Dir => None,
            })
            .collect()
    }

    /// One mutating step: counts it, and takes an image first if a cut is
    /// due.
    fn step<'a>(&'a self) -> MutexGuard<'a, State> {
        let mut st = self.lock();
        let step = st.steps;
        let chance = st.cut_chance;
        let by_chance = chance > 0.0 && st.rng.as_mut().unwrap().random_bool(chance);
        if st.cuts.remove(&step) || by_chance {
            let loss = if st.rng.as_mut().unwrap().random_bool(0.5) {
                Loss::All
            } else {
                Loss::Random
            };
            let img = make_image(&mut st, step, loss);
            st.images.push(img);
        }
        st.steps += 1;
        st
    }
}

fn make_image(st: &mut State, step: u64, loss: Loss) -> Image {
    let mut rng = st.rng.take().unwrap();
    let mut tree = st.base.clone();
    for (op, durable) in &st.meta {
        if *durable || (loss == Loss::Random && rng.random_bool(0.5)) {
            apply(&mut tree, op);
        }
    }
    let mut files = HashMap::new();
    for node in tree.values() {
        let Node::File(ino) = node else { continue };
        let inode = &st.inodes[ino];
        let mut bytes = inode.durable.clone();
        if loss == Loss::Random {
            for op in &inode.pending {
                match op {
                    DataOp::SetLen(n) => {
                        if rng.random_bool(0.5) {
                            bytes.resize(*n as usize, 0);
                        }
                    }
                    DataOp::Write(off, data) => {
                        for (i, chunk) in data.chunks(PAGE).enumerate() {
                            if rng.random_bool(0.5) {
                                write_at(&mut bytes, *off as usize + i * PAGE, chunk);
                            }
                        }
                    }
                }
            }
        }
        files.insert(*ino, bytes);
    }
    st.rng = Some(rng);
    Image {
        step,
        note: st.note,
        loss,
        tree,
        files,
    }
}

fn write_at(buf: &mut Vec<u8>, off: usize, data: &[u8]) {
    if buf.len() < off + data.len() {
        buf.resize(off + data.len(), 0);
    }
    buf[off..off + data.len()].copy_from_slice(data);
}

impl State {
    fn name_of(&self, ino: u64) -> Option<&PathBuf> {
        self.tree
            .iter()
            .find(|(_, n)| **n == Node::File(ino))
            .map(|(p, _)| p)
    }

    /// Whether a planted bug swallows a sync of this inode.
    fn swallows_file_sync(&mut self, ino: u64) -> bool {
        let suffix = match self.planted {
            Some(Planted::NoSyncBeforeRename) => ".tmp",
            Some(Planted::RenameBeforeHeaderDurable) => ".new",
            _ => return false,
        };
        let hit = self
            .name_of(ino)
            .is_some_and(|p| p.to_string_lossy().ends_with(suffix));
        if hit {
            self.swallowed += 1;
        }
        hit
    }

    fn sync_inode(&mut self, ino: u64) {
        if self.swallows_file_sync(ino) {
            return;
        }
        if let Some(i) = self.inodes.get_mut(&ino) {
            i.durable = i.data.clone();
            i.pending.clear();
        }
    }

    fn push_meta(&mut self, op: MetaOp) {
        apply(&mut self.tree, &op);
        self.meta.push((op, false));
    }

    fn sync_dir(&mut self, dir: &Path) {
        if self.skip_dir_sync.remove(dir) {
            self.swallowed += 1;
            return;
        }
        for (op, durable) in &mut self.meta {
            if op.dirs().iter().any(|d| d == dir) {
                *durable = true;
            }
        }
        // Fold the durable prefix into the base.
        let n = self.meta.iter().take_while(|(_, d)| *d).count();
        for (op, _) in self.meta.drain(..n) {
            apply(&mut self.base, &op);
        }
    }

    fn kind(&self, p: &Path) -> Option<FileKind> {
        match self.tree.get(p) {
            Some(Node::Dir) => Some(FileKind::Dir),
            Some(Node::File(_)) => Some(FileKind::File),
            None => None,
        }
    }

    fn parent_is_dir(&self, p: &Path) -> io::Result<()> {
        match self.kind(&parent(p)) {
            Some(FileKind::Dir) => Ok(()),
            Some(_) => Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                "not a directory",
            )),
            None => Err(not_found()),
        }
    }

    fn create_file(&mut self, p: &Path) -> io::Result<u64> {
        match self.tree.get(p) {
            Some(Node::File(ino)) => Ok(*ino),
            Some(Node::Dir) => Err(io::Error::new(
                io::ErrorKind::IsADirectory,
                "is a directory",
            )),
            None => {
                self.parent_is_dir(p)?;
                let ino = self.next_ino;
                self.next_ino += 1;
                self.inodes.insert(ino, Inode::default());
                self.push_meta(MetaOp::Create(p.to_path_buf(), ino));
                Ok(ino)
            }
        }
    }
}

/// One open file, as a page store sees it.
#[derive(Debug)]
struct SimBackend {
    fs: SimFs,
    ino: u64,
}

impl redb::StorageBackend for SimBackend {
    fn len(&self) -> Result<u64, io::Error> {
        Ok(self.fs.lock().inodes[&self.ino].data.len() as u64)
    }
    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), io::Error> {
        let st = self.fs.lock();
        let data = &st.inodes[&self.ino].data;
        let off = offset as usize;
        if off + out.len() > data.len() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "read past the end",
            ));
        }
        out.copy_from_slice(&data[off..off + out.len()]);
        Ok(())
    }
    fn set_len(&self, len: u64) -> Result<(), io::Error> {
        let mut st = self.fs.step();
        let i = st.inodes.get_mut(&self.ino).unwrap();
        i.data.resize(len as usize, 0);
        i.pending.push(DataOp::SetLen(len));
        Ok(())
    }
    fn sync_data(&self) -> Result<(), io::Error> {
        let mut st = self.fs.step();
        st.sync_inode(self.ino);
        Ok(())
    }
    fn write(&self, offset: u64, data: &[u8]) -> Result<(), io::Error> {
        let mut st = self.fs.step();
        let i = st.inodes.get_mut(&self.ino).unwrap();
        write_at(&mut i.data, offset as usize, data);
        i.pending.push(DataOp::Write(offset, data.to_vec()));
        Ok(())
    }
}

impl Fs for SimFs {
    fn open_backend(&self, path: &Path) -> io::Result<Box<dyn redb::StorageBackend>> {
        let p = norm(path);
        let ino = {
            let exists = matches!(self.lock().tree.get(&p), Some(Node::File(_)));
            if exists {
                let st = self.lock();
                match st.tree.get(&p) {
                    Some(Node::File(ino)) => *ino,
                    _ => return Err(not_found()),
                }
            } else {
                self.step().create_file(&p)?
            }
        };
        Ok(Box::new(SimBackend {
            fs: self.clone(),
            ino,
        }))
    }

    fn sync_file(&self, path: &Path) -> io::Result<()> {
        let p = norm(path);
        let mut st = self.step();
        match st.tree.get(&p) {
            Some(Node::File(ino)) => {
                let ino = *ino;
                st.sync_inode(ino);
                Ok(())
            }
            Some(Node::Dir) => Ok(()),
            None => Err(not_found()),
        }
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let p = norm(dir);
        let mut st = self.step();
        match st.kind(&p) {
            Some(FileKind::Dir) => {
                st.sync_dir(&p);
                Ok(())
            }
            Some(_) => Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                "not a directory",
            )),
            None => Err(not_found()),
        }
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let (a, b) = (norm(from), norm(to));
        let mut st = self.step();
        let src = st.kind(&a).ok_or_else(not_found)?;
        st.parent_is_dir(&b)?;
        match (src, st.kind(&b)) {
            (_, None) => {}
            (FileKind::File, Some(FileKind::File)) => {}
            (FileKind::Dir, Some(FileKind::Dir))
                if !st.tree.keys().any(|k| k != &b && k.starts_with(&b)) => {}
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::DirectoryNotEmpty,
                    "cannot replace the target",
                ));
            }
        }
        if a == b {
            return Ok(());
        }
        if src == FileKind::Dir && st.kind(&b).is_some() {
            st.push_meta(MetaOp::Rmdir(b.clone()));
        }
        let rewrite = a.to_string_lossy().ends_with(".tmp");
        st.push_meta(MetaOp::Rename(a, b.clone()));
        if st.planted == Some(Planted::NoDirSyncAfterRename)
            || (rewrite && st.planted == Some(Planted::NoDirSyncAfterRewrite))
        {
            st.skip_dir_sync.insert(parent(&b));
        }
        Ok(())
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        let p = norm(path);
        let mut st = self.step();
        match st.kind(&p) {
            Some(FileKind::File) => {
                st.push_meta(MetaOp::Unlink(p));
                Ok(())
            }
            Some(_) => Err(io::Error::new(
                io::ErrorKind::IsADirectory,
                "is a directory",
            )),
            None => Err(not_found()),
        }
    }

    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        let p = norm(dir);
        let mut st = self.step();
        let mut chain: Vec<PathBuf> = p.ancestors().map(Path::to_path_buf).collect();
        chain.reverse();
        for d in chain {
            if d.as_os_str().is_empty() {
                continue;
            }
            match st.kind(&d) {
                Some(FileKind::Dir) => {}
                Some(_) => return Err(io::Error::new(io::ErrorKind::NotADirectory, "a file")),
                None => st.push_meta(MetaOp::Mkdir(d)),
            }
        }
        Ok(())
    }

    fn remove_dir(&self, dir: &Path) -> io::Result<()> {
        let p = norm(dir);
        let mut st = self.step();
        match st.kind(&p) {
            Some(FileKind::Dir) => {
                if st.tree.keys().any(|k| k != &p && k.starts_with(&p)) {
                    return Err(io::Error::new(
                        io::ErrorKind::DirectoryNotEmpty,
                        "directory not empty",
                    ));
                }
                st.push_meta(MetaOp::Rmdir(p));
                Ok(())
            }
            Some(_) => Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                "not a directory",
            )),
            None => Err(not_found()),
        }
    }

    fn remove_dir_all(&self, dir: &Path) -> io::Result<()> {
        let p = norm(dir);
        let mut st = self.step();
        if st.kind(&p) != Some(FileKind::Dir) {
            return Err(not_found());
        }
        let mut below: Vec<(PathBuf, Node)> = st
            .tree
            .iter()
            .filter(|(k, _)| k.starts_with(&p))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        // Deepest first.
        below.sort_by_key(|(k, _)| std::cmp::Reverse(k.components().count()));
        for (k, v) in below {
            match v {
                Node::File(_) => st.push_meta(MetaOp::Unlink(k)),
                Node::Dir => st.push_meta(MetaOp::Rmdir(k)),
            }
        }
        Ok(())
    }

    fn metadata(&self, path: &Path) -> io::Result<Metadata> {
        let st = self.lock();
        match st.tree.get(&norm(path)) {
            Some(Node::Dir) => Ok(Metadata {
                kind: FileKind::Dir,
                len: 0,
            }),
            Some(Node::File(ino)) => Ok(Metadata {
                kind: FileKind::File,
                len: st.inodes[ino].data.len() as u64,
            }),
            None => Err(not_found()),
        }
    }

    fn read_dir(&self, dir: &Path) -> io::Result<Vec<DirEntry>> {
        let p = norm(dir);
        let st = self.lock();
        if st.kind(&p) != Some(FileKind::Dir) {
            return Err(not_found());
        }
        Ok(st
            .tree
            .iter()
            .filter(|(k, _)| k.parent() == Some(p.as_path()) && **k != p)
            .map(|(k, v)| DirEntry {
                name: k.file_name().map(OsString::from).unwrap_or_default(),
                kind: match v {
                    Node::Dir => FileKind::Dir,
                    Node::File(_) => FileKind::File,
                },
            })
            .collect())
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.read_file(path).ok_or_else(not_found)
    }

    fn write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        let p = norm(path);
        let mut st = self.step();
        let ino = st.create_file(&p)?;
        let i = st.inodes.get_mut(&ino).unwrap();
        i.data = data.to_vec();
        i.pending.push(DataOp::SetLen(0));
        i.pending.push(DataOp::Write(0, data.to_vec()));
        Ok(())
    }
}

// ------------------------------------------------------------ own tests --

/// The disk keeps what was synced and drops what was not.
pub fn self_check() {
    let fs = SimFs::new(1);
    let d = Path::new("/d");
    fs.create_dir_all(d).unwrap();
    fs.sync_dir(Path::new("/")).unwrap();
    // A synced file under a synced name survives; its later unsynced write
    // does not (with Loss::All).
    let b = fs.open_backend(&d.join("a")).unwrap();
    b.write(0, b"durable").unwrap();
    b.sync_data().unwrap();
    fs.sync_dir(d).unwrap();
    b.write(0, b"DIRTY!!").unwrap();
    // An unsynced rename is lost; a synced one is kept.
    fs.write(&d.join("t"), b"x").unwrap();
    fs.sync_file(&d.join("t")).unwrap();
    fs.rename(&d.join("t"), &d.join("u")).unwrap();
    let img = fs.cut(Loss::All);
    let files: BTreeMap<PathBuf, Vec<u8>> = img
        .files()
        .into_iter()
        .map(|(p, b)| (p, b.to_vec()))
        .collect();
    assert_eq!(files.get(Path::new("/d/a")).unwrap(), b"durable");
    assert!(!files.contains_key(Path::new("/d/u")));
    assert!(
        !files.contains_key(Path::new("/d/t")),
        "t was never durable"
    );
    fs.sync_dir(d).unwrap();
    let img = fs.cut(Loss::All);
    let names: Vec<PathBuf> = img.files().into_iter().map(|(p, _)| p).collect();
    assert_eq!(names, vec![PathBuf::from("/d/a"), PathBuf::from("/d/u")]);
    // A directory whose own entry was never synced is lost with its files.
    fs.create_dir_all(Path::new("/e")).unwrap();
    fs.write(Path::new("/e/f"), b"y").unwrap();
    fs.sync_file(Path::new("/e/f")).unwrap();
    fs.sync_dir(Path::new("/e")).unwrap();
    let img = fs.cut(Loss::All);
    assert!(img.files().iter().all(|(p, _)| !p.starts_with("/e")));
    // With random loss, over many cuts, both outcomes of a pending write
    // happen.
    let mut seen = BTreeSet::new();
    for _ in 0..64 {
        let img = fs.cut(Loss::Random);
        let a = img
            .files()
            .into_iter()
            .find(|(p, _)| p == Path::new("/d/a"))
            .map(|(_, b)| b.to_vec())
            .unwrap();
        seen.insert(a);
    }
    assert_eq!(seen.len(), 2, "random loss never varies: {seen:?}");
}
