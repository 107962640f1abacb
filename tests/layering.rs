//! The module graph of the engine and of the shell has no import circle, and
//! the engine's modules import only from their own layer or the layers below.
//!
//! The test reads the sources of `crates/pledgedb-core/src` and
//! `crates/pledgedb-shell/src`, takes every `crate::…` path and every
//! `super::…` path that leaves a top-level module, and builds a graph whose
//! nodes are the top-level modules (a child module belongs to its top-level
//! module; the crate root is no node). The layer table below is the one in
//! docs/design.md ("Layering").

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The engine's layers, lowest first. A module may import from its own
/// layer and from any layer below it, never from a layer above. Keep this
/// table equal to the one in docs/design.md.
const CORE_LAYERS: &[(&str, &[&str])] = &[
    ("base", &["time", "hash", "text"]),
    (
        "schema",
        &[
            "event",
            "hit",
            "sensitive",
            "settings",
            "repr",
            "ua",
            "geo",
            "identity",
        ],
    ),
    ("codec", &["codec", "rollup"]),
    ("errors", &["error", "limits"]),
    ("storage", &["storage", "audit", "config"]),
    ("domain", &["domain", "query"]),
    ("maintenance", &["writer", "compactor"]),
    ("engine", &["engine"]),
    ("ingest", &["ingest"]),
    ("face", &["db", "history", "health", "report", "usage"]),
];

/// The shell's layers, lowest first.
const SHELL_LAYERS: &[(&str, &[&str])] = &[
    ("rendering", &["output", "script"]),
    ("session", &["shell", "outfile"]),
    ("commands", &["admin", "dashboard", "import"]),
    ("dispatch", &["commands", "demo", "repl"]),
];

type Graph = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    PathSep,
    Open,
    Close,
    Comma,
    /// A string literal (raw strings included), as written between quotes.
    Str(String),
    Other(char),
}

/// Splits Rust source into the few tokens the graph needs; comments, string
/// and char literals are skipped.
fn lex(src: &str) -> Vec<Tok> {
    let b: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == '/' && b.get(i + 1) == Some(&'/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && b.get(i + 1) == Some(&'*') {
            let mut depth = 0usize;
            while i < b.len() {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == 'r' && matches!(b.get(i + 1), Some('"') | Some('#')) && raw_start(&b, i) {
            // raw string r"…" or r#"…"#
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            j += 1; // the opening quote
            let start = j;
            'raw: while j < b.len() {
                if b[j] == '"' {
                    let mut k = 0;
                    while k < hashes && b.get(j + 1 + k) == Some(&'#') {
                        k += 1;
                    }
                    if k == hashes {
                        out.push(Tok::Str(b[start..j].iter().collect()));
                        j += 1 + hashes;
                        break 'raw;
                    }
                }
                j += 1;
            }
            i = j;
        } else if c == '"' {
            i += 1;
            let start = i;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            out.push(Tok::Str(b[start..i.min(b.len())].iter().collect()));
            i += 1;
        } else if c == '\'' {
            // a char literal ('x', '\n', '\u{1F}') or a lifetime ('a)
            if b.get(i + 1) == Some(&'\\') {
                // skip the quote, the backslash and the escaped character
                i += 3;
                while i < b.len() && b[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if b.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
                while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_') {
                    i += 1;
                }
            }
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_') {
                i += 1;
            }
            let word: String = b[start..i].iter().collect();
            // b"…" byte strings and br"…" are literals, not idents
            if (word == "b" || word == "br") && matches!(b.get(i), Some('"') | Some('#')) {
                if word == "b" && b.get(i) == Some(&'"') {
                    continue;
                }
                if word == "br" {
                    i -= 1; // let the raw-string branch see the `r`
                    continue;
                }
            }
            out.push(Tok::Ident(word));
        } else if c.is_ascii_digit() {
            while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_') {
                i += 1;
            }
            out.push(Tok::Other('0'));
        } else if c == ':' && b.get(i + 1) == Some(&':') {
            out.push(Tok::PathSep);
            i += 2;
        } else {
            out.push(match c {
                '{' => Tok::Open,
                '}' => Tok::Close,
                ',' => Tok::Comma,
                c if c.is_whitespace() => {
                    i += 1;
                    continue;
                }
                c => Tok::Other(c),
            });
            i += 1;
        }
    }
    out
}

fn raw_start(b: &[char], i: usize) -> bool {
    // `r` starts a raw string only when it is not the end of an identifier
    let before = i.checked_sub(1).map(|p| b[p]);
    if before.is_some_and(|p| p.is_alphanumeric() || p == '_') && before != Some('b') {
        return false;
    }
    let mut j = i + 1;
    while b.get(j) == Some(&'#') {
        j += 1;
    }
    b.get(j) == Some(&'"')
}

/// The first segments of the paths after a `::` at `toks[at]`: one name, or
/// the first name of each item of a `{…}` group.
fn heads(toks: &[Tok], at: usize) -> Vec<String> {
    match toks.get(at + 1) {
        Some(Tok::Ident(name)) => vec![name.clone()],
        Some(Tok::Open) => {
            let mut names = Vec::new();
            let mut depth = 0usize;
            let mut expect = true;
            for t in &toks[at + 1..] {
                match t {
                    Tok::Open => {
                        depth += 1;
                        if depth > 1 {
                            expect = false;
                        }
                    }
                    Tok::Close => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    Tok::Comma if depth == 1 => expect = true,
                    Tok::Ident(n) if depth == 1 && expect => {
                        names.push(n.clone());
                        expect = false;
                    }
                    _ if depth == 1 => expect = false,
                    _ => {}
                }
            }
            names
        }
        _ => Vec::new(),
    }
}

/// The crate root's `pub use module::{Name, …}` items: which module a name
/// re-exported at the root comes from.
fn root_reexports(toks: &[Tok]) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    let mut i = 0;
    while i + 2 < toks.len() {
        if toks[i] == Tok::Ident("use".into())
            && let (Tok::Ident(module), Tok::PathSep) = (&toks[i + 1], &toks[i + 2])
        {
            // every ident up to the `;` is a name that may be re-exported
            let mut j = i + 3;
            while j < toks.len() && toks[j] != Tok::Other(';') {
                if let Tok::Ident(n) = &toks[j] {
                    map.entry(n.clone()).or_insert_with(|| module.clone());
                }
                j += 1;
            }
            i = j;
            continue;
        }
        i += 1;
    }
    map
}

/// When `toks[i..]` starts with `#[cfg(test)]`, the index just after it.
fn cfg_test_at(toks: &[Tok], i: usize) -> Option<usize> {
    let want = [
        Tok::Other('#'),
        Tok::Other('['),
        Tok::Ident("cfg".into()),
        Tok::Other('('),
        Tok::Ident("test".into()),
        Tok::Other(')'),
        Tok::Other(']'),
    ];
    (toks.len() >= i + want.len() && toks[i..i + want.len()] == want).then_some(i + want.len())
}

/// Skips the item that starts at `toks[i]` (after its attributes): up to a
/// `;` outside any brackets, or to the end of its first `{…}` block.
fn skip_item(toks: &[Tok], mut i: usize) -> usize {
    let mut depth = 0usize;
    while i < toks.len() {
        match &toks[i] {
            Tok::Open => depth += 1,
            Tok::Close => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            Tok::Other(';') if depth == 0 => return i + 1,
            _ => {}
        }
        i += 1;
    }
    i
}

/// The `#[cfg(test)] mod name;` declarations of a file: the module paths of
/// test-only child files.
fn test_children(toks: &[Tok], base: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for i in 0..toks.len() {
        if let Some(j) = cfg_test_at(toks, i)
            && let (Some(Tok::Ident(m)), Some(Tok::Ident(name)), Some(Tok::Other(';'))) =
                (toks.get(j), toks.get(j + 1), toks.get(j + 2))
            && m == "mod"
        {
            let mut p = base.to_vec();
            p.push(name.clone());
            out.push(p);
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a source file: `domain/reader.rs` is
/// `["domain", "reader"]`, `domain/mod.rs` is `["domain"]`, the root `[]`.
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).expect("file under src");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|c| c.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("file name");
    let stem = last.trim_end_matches(".rs").to_string();
    let root = parts.is_empty() && matches!(stem.as_str(), "lib" | "main");
    if stem != "mod" && !root {
        parts.push(stem);
    }
    parts
}

/// Builds the graph of top-level modules of the crate at `src`, each edge
/// labelled with the files that make it.
fn graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let root_file = ["lib.rs", "main.rs"]
        .iter()
        .map(|n| src.join(n))
        .find(|p| p.exists())
        .expect("a crate root");
    let root_toks = lex(&fs::read_to_string(&root_file).expect("root source"));
    let reexports = root_reexports(&root_toks);
    let mut modules: BTreeSet<String> = BTreeSet::new();
    for f in &files {
        if let Some(top) = module_path(src, f).first() {
            modules.insert(top.clone());
        }
    }
    let resolve = |name: &str| -> Option<String> {
        if modules.contains(name) {
            Some(name.to_string())
        } else {
            reexports
                .get(name)
                .filter(|m| modules.contains(*m))
                .cloned()
        }
    };
    let mut g: Graph = BTreeMap::new();
    for m in &modules {
        g.entry(m.clone()).or_default();
    }
    let mut test_only: Vec<Vec<String>> = Vec::new();
    for f in &files {
        let toks = lex(&fs::read_to_string(f).expect("source"));
        test_only.extend(test_children(&toks, &module_path(src, f)));
    }
    for f in &files {
        let base = module_path(src, f);
        let Some(top) = base.first().cloned() else {
            continue;
        };
        if test_only.iter().any(|t| base.starts_with(t)) {
            continue;
        }
        let toks = lex(&fs::read_to_string(f).expect("source"));
        let rel = f
            .strip_prefix(src)
            .expect("under src")
            .display()
            .to_string();
        // inline `mod name { … }` blocks nest the module path
        let mut inline: Vec<(String, usize)> = Vec::new();
        let mut depth = 0usize;
        let mut i = 0;
        while i < toks.len() {
            if let Some(j) = cfg_test_at(&toks, i) {
                // unit tests may drive the whole engine: no part of the layering
                i = skip_item(&toks, j);
                continue;
            }
            match &toks[i] {
                Tok::Open => depth += 1,
                Tok::Close => {
                    depth = depth.saturating_sub(1);
                    if inline.last().is_some_and(|(_, d)| *d == depth) {
                        inline.pop();
                    }
                }
                Tok::Ident(kw) if kw == "mod" => {
                    if let (Some(Tok::Ident(name)), Some(Tok::Open)) =
                        (toks.get(i + 1), toks.get(i + 2))
                    {
                        inline.push((name.clone(), depth));
                    }
                }
                Tok::Ident(kw) if kw == "crate" && toks.get(i + 1) == Some(&Tok::PathSep) => {
                    let before = i.checked_sub(1).map(|p| &toks[p]);
                    if before != Some(&Tok::Other('$')) {
                        for h in heads(&toks, i + 1) {
                            if let Some(to) = resolve(&h).filter(|to| *to != top) {
                                g.entry(top.clone())
                                    .or_default()
                                    .entry(to)
                                    .or_default()
                                    .insert(rel.clone());
                            }
                        }
                    }
                }
                Tok::Ident(kw) if kw == "super" && toks.get(i + 1) == Some(&Tok::PathSep) => {
                    let before = i.checked_sub(1).map(|p| &toks[p]);
                    if before != Some(&Tok::PathSep) {
                        let mut ups = 1;
                        let mut j = i + 1;
                        while toks.get(j + 1) == Some(&Tok::Ident("super".into()))
                            && toks.get(j + 2) == Some(&Tok::PathSep)
                        {
                            ups += 1;
                            j += 2;
                        }
                        let here = base.len() + inline.len();
                        if ups >= here {
                            for h in heads(&toks, j) {
                                if let Some(to) = resolve(&h).filter(|to| *to != top) {
                                    g.entry(top.clone())
                                        .or_default()
                                        .entry(to)
                                        .or_default()
                                        .insert(rel.clone());
                                }
                            }
                        }
                        i = j;
                    }
                }
                _ => {}
            }
            i += 1;
        }
    }
    g
}

/// Every strongly connected component of more than one module, each as one
/// circle through it.
fn circles(g: &Graph) -> Vec<Vec<String>> {
    // Tarjan's algorithm
    struct St<'a> {
        g: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut St<'a>, v: &'a str) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on.insert(v);
        for w in s.g[v].keys() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if s.on.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on.remove(w);
                comp.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                s.out.push(comp);
            }
        }
    }
    let mut s = St {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in g.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out
        .iter()
        .flat_map(|comp| {
            // one circle through each member, so that every tangled module
            // shows up in the message
            let mut seen: BTreeSet<Vec<String>> = BTreeSet::new();
            let mut out = Vec::new();
            for m in comp {
                let mut rotated = comp.clone();
                rotated.retain(|x| x != m);
                rotated.insert(0, m.clone());
                let c = one_circle(g, &rotated);
                let mut key = c[..c.len() - 1].to_vec();
                key.sort();
                if seen.insert(key) {
                    out.push(c);
                }
            }
            out
        })
        .collect::<Vec<_>>()
}

/// A circle through the first module of a strongly connected component,
/// found by a breadth-first search inside it.
fn one_circle(g: &Graph, comp: &[String]) -> Vec<String> {
    let inside: BTreeSet<&str> = comp.iter().map(String::as_str).collect();
    let start = comp[0].as_str();
    let mut prev: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for w in g[v].keys().map(String::as_str) {
            if !inside.contains(w) {
                continue;
            }
            if w == start {
                let mut chain = Vec::new();
                let mut at = v;
                while at != start {
                    chain.push(at.to_string());
                    at = prev[at];
                }
                chain.reverse();
                let mut path = vec![start.to_string()];
                path.extend(chain);
                path.push(start.to_string());
                return path;
            }
            if !prev.contains_key(w) && w != start {
                prev.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    comp.to_vec()
}

fn describe(g: &Graph, circle: &[String]) -> String {
    let mut s = circle.join(" -> ");
    let mut members: Vec<&String> = circle.iter().collect();
    members.sort();
    members.dedup();
    s.push_str(&format!(" (one circle of the tangle {members:?})"));
    for pair in circle.windows(2) {
        let files = &g[&pair[0]][&pair[1]];
        s.push_str(&format!(
            "\n    {} -> {}: {}",
            pair[0],
            pair[1],
            files.iter().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    s
}

/// Edges that run from a lower layer up, as readable lines.
fn upward(g: &Graph, layers: &[(&str, &[&str])]) -> Vec<String> {
    let layer_of = |m: &str| {
        layers
            .iter()
            .position(|(_, ms)| ms.contains(&m))
            .unwrap_or_else(|| panic!("module `{m}` has no layer: add it to the table"))
    };
    let mut out = Vec::new();
    for (from, tos) in g {
        for (to, files) in tos {
            let (lf, lt) = (layer_of(from), layer_of(to));
            if lt > lf {
                out.push(format!(
                    "{from} ({}) imports {to} ({}) in {}",
                    layers[lf].0,
                    layers[lt].0,
                    files.iter().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
        }
    }
    out
}

/// The string literals of the crate at `src` outside test-only code, each
/// with the file it is in and whether it is the argument of a `join(…)`.
fn production_strings(src: &Path) -> Vec<(String, String, bool)> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut test_only: Vec<Vec<String>> = Vec::new();
    for f in &files {
        let toks = lex(&fs::read_to_string(f).expect("source"));
        test_only.extend(test_children(&toks, &module_path(src, f)));
    }
    let mut out = Vec::new();
    for f in &files {
        let base = module_path(src, f);
        if test_only.iter().any(|t| base.starts_with(t)) {
            continue;
        }
        let toks = lex(&fs::read_to_string(f).expect("source"));
        let rel = f
            .strip_prefix(src)
            .expect("under src")
            .display()
            .to_string();
        let mut i = 0;
        while i < toks.len() {
            if let Some(j) = cfg_test_at(&toks, i) {
                i = skip_item(&toks, j);
                continue;
            }
            if let Tok::Str(lit) = &toks[i] {
                let joined = i >= 2
                    && toks[i - 1] == Tok::Other('(')
                    && toks[i - 2] == Tok::Ident("join".into());
                out.push((rel.clone(), lit.clone(), joined));
            }
            i += 1;
        }
    }
    out
}

/// Whether a string literal names a file or folder of a data directory:
/// the redb files, or a path through the layout's folders.
fn names_a_data_file(lit: &str) -> bool {
    let l = lit.to_ascii_lowercase();
    l.contains(".redb")
        || l.contains(".tmp")
        || ["domains", "segments", "quarantine"].iter().any(|dir| {
            l == *dir || l.contains(&format!("{dir}/")) || l.contains(&format!("/{dir}"))
        })
}

fn src_of(krate: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates")
        .join(krate)
        .join("src")
}

fn assert_no_circle(krate: &str) -> Graph {
    let g = graph(&src_of(krate));
    let found = circles(&g);
    assert!(
        found.is_empty(),
        "{krate} has {} import circle(s):\n  {}",
        found.len(),
        found
            .iter()
            .map(|c| describe(&g, c))
            .collect::<Vec<_>>()
            .join("\n  ")
    );
    g
}

#[test]
fn core_has_no_import_circle() {
    assert_no_circle("pledgedb-core");
}

#[test]
fn shell_has_no_import_circle() {
    assert_no_circle("pledgedb-shell");
}

#[test]
fn core_imports_only_from_its_layer_or_below() {
    let g = graph(&src_of("pledgedb-core"));
    let up = upward(&g, CORE_LAYERS);
    assert!(
        up.is_empty(),
        "{} import(s) run from a lower layer up:\n  {}",
        up.len(),
        up.join("\n  ")
    );
}

#[test]
fn shell_imports_only_from_its_layer_or_below() {
    let g = graph(&src_of("pledgedb-shell"));
    let up = upward(&g, SHELL_LAYERS);
    assert!(
        up.is_empty(),
        "{} import(s) run from a lower layer up:\n  {}",
        up.len(),
        up.join("\n  ")
    );
}

/// The shell renders what the engine computes and never names a file of
/// the data directory: no literal of its code is a redb file name or a path
/// through the directory's folders. (A section or column titled "segments"
/// or "domains" is a word, not a path, unless it is joined onto one.)
#[test]
fn the_shell_names_no_file_of_the_data_directory() {
    let found: Vec<String> = production_strings(&src_of("pledgedb-shell"))
        .into_iter()
        .filter(|(_, lit, joined)| names_a_data_file(lit) && (*joined || !is_a_title(lit)))
        .map(|(file, lit, _)| format!("{file}: {lit:?}"))
        .collect();
    assert!(
        found.is_empty(),
        "the shell names files of the data directory:\n  {}",
        found.join("\n  ")
    );
}

/// Section and column titles the shell prints, which share a word with the
/// layout but name no file.
fn is_a_title(lit: &str) -> bool {
    matches!(lit, "segments" | "domains" | "quarantined" | "quarantine")
}

#[test]
fn the_file_name_check_sees_layout_names() {
    for lit in [
        "control.redb",
        "pledgedb.redb",
        "domains/shop.example",
        "x/segments/2026-01-01.redb",
        "aggregates.redb",
        "quarantine/",
        "a.redb.tmp",
    ] {
        assert!(names_a_data_file(lit), "{lit}");
    }
    for lit in [
        "pageviews",
        "the domain",
        "segment count",
        "SELECT * FROM events",
    ] {
        assert!(!names_a_data_file(lit), "{lit}");
    }
}

#[test]
fn every_module_has_a_layer() {
    for (krate, layers) in [
        ("pledgedb-core", CORE_LAYERS),
        ("pledgedb-shell", SHELL_LAYERS),
    ] {
        let g = graph(&src_of(krate));
        for m in g.keys() {
            assert!(
                layers.iter().any(|(_, ms)| ms.contains(&m.as_str())),
                "{krate}: module `{m}` is in no layer of the table"
            );
        }
    }
}

/// The checker itself: a table of small crates, each with the circle (or
/// none) that it must find, so that a checker that sees nothing fails here.
#[test]
fn the_checker_finds_circles_of_every_kind_of_path() {
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], Option<&'a [&'a str]>);
    let cases: &[Case] = &[
        (
            "plain use",
            &[("a.rs", "use crate::b::X;"), ("b.rs", "use crate::a::Y;")],
            Some(&["a", "b"]),
        ),
        (
            "use group",
            &[
                ("a.rs", "use crate::{c::Z, b::{X, Y}};"),
                ("b.rs", "pub fn f() { crate::a::g() }"),
                ("c.rs", ""),
            ],
            Some(&["a", "b"]),
        ),
        (
            "super from a child module",
            &[
                ("a/mod.rs", "mod inner;"),
                ("a/inner.rs", "use super::super::b::X;"),
                ("b.rs", "fn f() { super::a::g(); }"),
            ],
            Some(&["a", "b"]),
        ),
        (
            "root re-export",
            &[
                ("lib.rs", "pub use a::Thing;"),
                ("a.rs", "use crate::b::X;"),
                ("b.rs", "use crate::Thing;"),
            ],
            Some(&["a", "b"]),
        ),
        (
            "three modules",
            &[
                ("a.rs", "use crate::b::X;"),
                ("b.rs", "use crate::c::X;"),
                ("c.rs", "use crate::a::X;"),
            ],
            Some(&["a", "b", "c"]),
        ),
        (
            "super inside an inline test module stays home",
            &[
                ("a.rs", "use crate::b::X; mod tests { use super::*; }"),
                ("b.rs", "fn f() {}"),
            ],
            None,
        ),
        (
            "paths in comments and strings do not count",
            &[
                ("a.rs", "use crate::b::X;"),
                (
                    "b.rs",
                    "// crate::a::X\n/* crate::a */ const S: &str = \"crate::a::X\"; const R: &str = r#\"crate::a\"#; fn f<'a>(x: &'a u8) -> char { 'c' } const Q: char = '\\''; const B: &str = \"crate::a\"; const N: char = '\\n'; // crate::a",
                ),
            ],
            None,
        ),
        (
            "test-only modules are no part of the layering",
            &[
                (
                    "a/mod.rs",
                    "use crate::b::X; #[cfg(test)] mod tests; #[cfg(test)]\nmod inline { use crate::b::Y; fn f() {} }",
                ),
                ("a/tests.rs", "use crate::b::Z;"),
                (
                    "b.rs",
                    "#[cfg(test)] mod tests { use crate::a::X; } #[cfg(test)] use crate::a::Y; fn f() {}",
                ),
            ],
            None,
        ),
        (
            "a test attribute hides only its own item",
            &[
                ("a.rs", "use crate::b::X;"),
                (
                    "b.rs",
                    "#[cfg(test)] use crate::c::Y; #[cfg(test)] fn t() { crate::c::z(); } fn f() { crate::a::g(); }",
                ),
                ("c.rs", ""),
            ],
            Some(&["a", "b"]),
        ),
        (
            "pub(crate) and pub(super) are visibility, not paths",
            &[
                ("a.rs", "use crate::b::X; pub(crate) fn g() {}"),
                ("b.rs", "pub(super) fn f() {} pub(crate) struct X;"),
            ],
            None,
        ),
    ];
    for (name, files, expect) in cases {
        let dir = tempfile::tempdir().expect("temp dir");
        let src = dir.path().join("src");
        let mut lib = String::new();
        for (path, body) in *files {
            let p = src.join(path);
            fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            if *path == "lib.rs" {
                lib.push_str(body);
                continue;
            }
            fs::write(&p, body).expect("write");
        }
        fs::write(src.join("lib.rs"), lib).expect("write lib");
        let g = graph(&src);
        let found = circles(&g);
        match expect {
            Some(members) => {
                assert_eq!(found.len(), 1, "{name}: {found:?} in {g:?}");
                let mut got: Vec<String> = found[0].clone();
                got.pop();
                got.sort();
                assert_eq!(got, *members, "{name}");
            }
            None => assert!(found.is_empty(), "{name}: found {found:?}"),
        }
    }
}

#[test]
fn the_checker_finds_an_upward_import() {
    let mut g: Graph = BTreeMap::new();
    g.entry("error".into())
        .or_default()
        .entry("db".into())
        .or_default()
        .insert("error.rs".into());
    g.entry("db".into()).or_default();
    let up = upward(&g, CORE_LAYERS);
    assert_eq!(up.len(), 1, "{up:?}");
    assert!(up[0].starts_with("error (errors) imports db (face)"));
}
