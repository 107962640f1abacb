//! Rendering results: aligned tables (comfy-table) that fit the terminal,
//! CSV with proper quoting, JSON arrays of objects, and `line` mode. Numbers
//! are formatted for people in table mode (thousands separators,
//! percentages, durations, sizes) and written raw in the other modes.

use comfy_table::{
    Cell as TableCell, CellAlignment, ColumnConstraint, ContentArrangement, ContentLineStyle,
    LineStyle, Table, TableStyle, Width,
};
use pledgedb_sql::{ResultSet, Value};
use std::fmt;
use std::io::{self, Write};

/// How results are printed (`.mode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Aligned tables for people.
    #[default]
    Table,
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON array of objects.
    Json,
    /// `column = value`, one per line, a blank line between rows.
    Line,
}

impl Mode {
    /// Every mode, as `.mode` accepts them.
    pub const NAMES: &'static str = "table, csv, json or line";

    /// Parses a mode name.
    pub fn parse(s: &str) -> Option<Mode> {
        match s.to_ascii_lowercase().as_str() {
            "table" | "box" => Some(Mode::Table),
            "csv" => Some(Mode::Csv),
            "json" => Some(Mode::Json),
            "line" => Some(Mode::Line),
            _ => None,
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Table => "table",
            Mode::Csv => "csv",
            Mode::Json => "json",
            Mode::Line => "line",
        })
    }
}

/// How table mode shows a column's numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fmt {
    /// Numbers with thousands separators, text as is.
    Plain,
    /// A fraction shown as a percentage (`0.425` as `42.5%`).
    Percent,
    /// Milliseconds shown as a duration (`83000` as `1m 23s`).
    Duration,
    /// Bytes shown with a binary unit (`1536` as `1.5 KiB`).
    Bytes,
}

/// A column of a [`Grid`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Col {
    /// The column's name.
    pub name: String,
    /// How table mode shows it.
    pub fmt: Fmt,
}

/// Shorthand for a column.
pub fn col(name: &str, fmt: Fmt) -> Col {
    Col {
        name: name.to_string(),
        fmt,
    }
}

/// Shorthand for plain columns.
pub fn cols(names: &[&str]) -> Vec<Col> {
    names.iter().map(|n| col(n, Fmt::Plain)).collect()
}

/// Rows of values under named columns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Grid {
    /// The columns.
    pub columns: Vec<Col>,
    /// The rows, one value per column.
    pub rows: Vec<Vec<Value>>,
}

impl Grid {
    /// An empty grid with these columns.
    pub fn new(columns: Vec<Col>) -> Grid {
        Grid {
            columns,
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn push(&mut self, row: Vec<Value>) {
        self.rows.push(row);
    }

    /// The grid of a SQL result, with formats guessed from column names.
    pub fn from_result(rs: &ResultSet) -> Grid {
        Grid {
            columns: rs
                .columns
                .iter()
                .map(|c| col(&c.name, guess_fmt(&c.name)))
                .collect(),
            rows: rs.rows.clone(),
        }
    }
}

/// The table-mode format a SQL column's name suggests: `*_ms` durations,
/// rates, shares, conversion and abandonment as percentages.
pub fn guess_fmt(name: &str) -> Fmt {
    let n = name.to_ascii_lowercase();
    if n.ends_with("_ms") {
        Fmt::Duration
    } else if n.ends_with("rate") || n.ends_with("share") || n == "conversion" || n == "abandonment"
    {
        Fmt::Percent
    } else if n == "bytes" || n.ends_with("_bytes") {
        Fmt::Bytes
    } else {
        Fmt::Plain
    }
}

/// Text value.
pub fn text(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

/// Integer value (saturating).
pub fn int(n: impl TryInto<i64>) -> Value {
    Value::Int(n.try_into().unwrap_or(i64::MAX))
}

/// Where and how to print.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    /// The mode.
    pub mode: Mode,
    /// The terminal's width in table mode, `None` when not printing to a
    /// terminal (tables are then as wide as their content).
    pub width: Option<u16>,
}

impl Style {
    /// Table mode, no width limit.
    pub fn plain_table() -> Style {
        Style {
            mode: Mode::Table,
            width: None,
        }
    }
}

/// The width of the terminal standard output is, if it is one.
pub fn terminal_width() -> Option<u16> {
    let t = Table::new();
    if t.is_tty() {
        t.width().filter(|w| *w >= 20)
    } else {
        None
    }
}

/// A titled grid of a multi-part report (dashboard, statistics, ...).
#[derive(Clone, Debug, PartialEq)]
pub struct Section {
    /// Title shown above the table in table and line mode.
    pub title: String,
    /// Key of the section in JSON mode.
    pub key: String,
    /// The data.
    pub grid: Grid,
}

impl Section {
    /// A section.
    pub fn new(title: &str, key: &str, grid: Grid) -> Section {
        Section {
            title: title.to_string(),
            key: key.to_string(),
            grid,
        }
    }
}

/// Prints sections: titled tables in table and line mode, CSV blocks
/// separated by a blank line, or one JSON object of arrays keyed by section.
pub fn render_sections(out: &mut dyn Write, sections: &[Section], style: Style) -> io::Result<()> {
    match style.mode {
        Mode::Json => {
            writeln!(out, "{{")?;
            for (i, s) in sections.iter().enumerate() {
                let sep = if i + 1 < sections.len() { "," } else { "" };
                write!(out, "{}: ", json_string(&s.key))?;
                write_json(out, &s.grid)?;
                writeln!(out, "{sep}")?;
            }
            writeln!(out, "}}")
        }
        Mode::Csv => {
            for (i, s) in sections.iter().enumerate() {
                if i > 0 {
                    writeln!(out)?;
                }
                write_csv(out, &s.grid)?;
            }
            Ok(())
        }
        Mode::Table | Mode::Line => {
            for (i, s) in sections.iter().enumerate() {
                if i > 0 {
                    writeln!(out)?;
                }
                writeln!(out, "{}", s.title)?;
                render(out, &s.grid, style)?;
            }
            Ok(())
        }
    }
}

/// Prints a grid in the style's mode.
pub fn render(out: &mut dyn Write, grid: &Grid, style: Style) -> io::Result<()> {
    match style.mode {
        Mode::Table => write_table(out, grid, style.width),
        Mode::Csv => write_csv(out, grid),
        Mode::Json => {
            write_json(out, grid)?;
            writeln!(out)
        }
        Mode::Line => write_lines(out, grid),
    }
}

fn is_number(v: &Value) -> bool {
    matches!(v, Value::Int(_) | Value::Float(_))
}

/// Rounded box lines, a rule under the header only.
const BOX: TableStyle = TableStyle::new()
    .top_border(LineStyle::new('╭', '─', '┬', '╮'))
    .header_lines(ContentLineStyle::new('│', '│', '│'))
    .header_separator(LineStyle::new('├', '─', '┼', '┤'))
    .content_lines(ContentLineStyle::new('│', '│', '│'))
    .bottom_border(LineStyle::new('╰', '─', '┴', '╯'));

fn write_table(out: &mut dyn Write, grid: &Grid, width: Option<u16>) -> io::Result<()> {
    let mut t = Table::new();
    t.load_style(BOX);
    t.set_header(grid.columns.iter().map(|c| TableCell::new(&c.name)));
    for row in &grid.rows {
        t.add_row(row.iter().zip(&grid.columns).map(|(v, c)| {
            let cell = TableCell::new(human(v, c.fmt));
            if is_number(v) {
                cell.set_alignment(CellAlignment::Right)
            } else {
                cell
            }
        }));
    }
    // Right-align the header of columns whose values are numbers.
    for (i, _) in grid.columns.iter().enumerate() {
        let numeric = grid
            .rows
            .iter()
            .map(|r| r.get(i))
            .any(|v| v.is_some_and(is_number));
        if numeric && let Some(column) = t.column_mut(i) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    fit(&mut t, grid, width);
    writeln!(out, "{t}")
}

/// Fits the table to the terminal. Cells wrap, but a column is never made
/// narrower than its widest value or 16 characters (so ids stay whole),
/// or, if that is still too wide, 8; headers may wrap. When even that does
/// not fit, or when not printing to a terminal, nothing wraps.
fn fit(t: &mut Table, grid: &Grid, width: Option<u16>) {
    let data: Vec<u16> = (0..grid.columns.len())
        .map(|i| {
            let w = grid
                .rows
                .iter()
                .filter_map(|r| r.get(i))
                .map(|v| human(v, grid.columns[i].fmt).chars().count())
                .max()
                .unwrap_or(1);
            u16::try_from(w).unwrap_or(u16::MAX).max(1)
        })
        .collect();
    for floor in [16u16, 8] {
        let bounds: Vec<u16> = data.iter().map(|w| (*w).min(floor)).collect();
        // Each column adds a border and two padding characters.
        let least: u32 = bounds.iter().map(|b| u32::from(*b) + 3).sum::<u32>() + 1;
        if let Some(w) = width
            && least <= u32::from(w)
        {
            t.set_width(w)
                .set_content_arrangement(ContentArrangement::Dynamic)
                .set_constraints(
                    bounds
                        .into_iter()
                        .map(|b| ColumnConstraint::LowerBoundary(Width::Fixed(b))),
                );
            return;
        }
    }
    t.force_no_tty()
        .set_content_arrangement(ContentArrangement::Disabled);
}

/// A value as table mode shows it.
pub fn human(v: &Value, fmt: Fmt) -> String {
    match (v, fmt) {
        (Value::Null, _) => "NULL".to_string(),
        (Value::Int(n), Fmt::Duration) => duration_ms(*n),
        (Value::Float(x), Fmt::Duration) => duration_ms(x.round() as i64),
        (Value::Int(n), Fmt::Bytes) => bytes(u64::try_from(*n).unwrap_or(0)),
        (Value::Int(n), Fmt::Percent) => percent(*n as f64),
        (Value::Float(x), Fmt::Percent) => percent(*x),
        (Value::Int(n), _) => thousands_i(*n),
        (Value::Float(x), _) => float(*x),
        (Value::Text(s), _) => s.clone(),
        (Value::Bool(b), _) => b.to_string(),
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut s = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            s.push(',');
        }
        s.push(c);
    }
    s
}

fn thousands_i(n: i64) -> String {
    if n < 0 {
        format!("-{}", thousands(n.unsigned_abs()))
    } else {
        thousands(n.unsigned_abs())
    }
}

/// A float with thousands separators and at most two decimals.
fn float(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let s = format!("{:.2}", x.abs());
    let (int_part, frac) = s.split_once('.').unwrap_or((&s, ""));
    let frac = frac.trim_end_matches('0');
    let grouped = int_part
        .parse::<u64>()
        .map_or_else(|_| int_part.to_string(), thousands);
    let sign = if x < 0.0 && (grouped != "0" || !frac.is_empty()) {
        "-"
    } else {
        ""
    };
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac}")
    }
}

/// A fraction as a percentage with one decimal.
pub fn percent(x: f64) -> String {
    if x.is_finite() {
        format!("{:.1}%", x * 100.0)
    } else {
        "-".to_string()
    }
}

/// Milliseconds for people: `850 ms`, `12.3 s`, `4m 05s`, `2h 03m`.
pub fn duration_ms(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let ms = ms.unsigned_abs();
    if ms < 1_000 {
        format!("{sign}{ms} ms")
    } else if ms < 60_000 {
        format!("{sign}{:.1} s", ms as f64 / 1000.0)
    } else if ms < 3_600_000 {
        let s = ms / 1000;
        format!("{sign}{}m {:02}s", s / 60, s % 60)
    } else {
        let m = ms / 60_000;
        format!("{sign}{}h {:02}m", m / 60, m % 60)
    }
}

/// Bytes for people: `512 B`, `1.5 KiB`, `3.2 MiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut x = n as f64 / 1024.0;
    let mut unit = UNITS[0];
    for u in &UNITS[1..] {
        if x < 1024.0 {
            break;
        }
        x /= 1024.0;
        unit = u;
    }
    format!("{x:.1} {unit}")
}

/// A value as CSV and line mode write it: raw, `NULL` as empty in CSV.
fn raw(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn csv_field(s: &str) -> String {
    let needs_quotes = s.contains([',', '"', '\n', '\r'])
        || s.starts_with(char::is_whitespace)
        || s.ends_with(char::is_whitespace);
    if needs_quotes {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn write_csv(out: &mut dyn Write, grid: &Grid) -> io::Result<()> {
    let header: Vec<String> = grid.columns.iter().map(|c| csv_field(&c.name)).collect();
    writeln!(out, "{}", header.join(","))?;
    for row in &grid.rows {
        let cells: Vec<String> = row.iter().map(|v| csv_field(&raw(v))).collect();
        writeln!(out, "{}", cells.join(","))?;
    }
    Ok(())
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

fn json_value(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Int(n) => n.to_string(),
        Value::Float(x) => {
            serde_json::Number::from_f64(*x).map_or_else(|| "null".to_string(), |n| n.to_string())
        }
        Value::Text(s) => json_string(s),
        Value::Bool(b) => b.to_string(),
    }
}

/// Writes an array of objects, one object per line, keys in column order.
fn write_json(out: &mut dyn Write, grid: &Grid) -> io::Result<()> {
    if grid.rows.is_empty() {
        return write!(out, "[]");
    }
    let keys: Vec<String> = grid.columns.iter().map(|c| json_string(&c.name)).collect();
    for (i, row) in grid.rows.iter().enumerate() {
        let open = if i == 0 { "[" } else { " " };
        let fields: Vec<String> = keys
            .iter()
            .zip(row)
            .map(|(k, v)| format!("{k}:{}", json_value(v)))
            .collect();
        write!(out, "{open}{{{}}}", fields.join(","))?;
        if i + 1 < grid.rows.len() {
            writeln!(out, ",")?;
        }
    }
    write!(out, "]")
}

fn write_lines(out: &mut dyn Write, grid: &Grid) -> io::Result<()> {
    let w = grid
        .columns
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(0);
    for (i, row) in grid.rows.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        for (c, v) in grid.columns.iter().zip(row) {
            let shown = match v {
                Value::Null => "NULL".to_string(),
                other => other.to_string(),
            };
            writeln!(out, "{:>w$} = {shown}", c.name)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> Grid {
        let mut g = Grid::new(vec![
            col("path", Fmt::Plain),
            col("views", Fmt::Plain),
            col("bounce_rate", Fmt::Percent),
            col("avg_ms", Fmt::Duration),
        ]);
        g.push(vec![
            text("/a,b"),
            int(1234),
            Value::Float(0.5),
            int(83_000),
        ]);
        g.push(vec![text("say \"hi\""), int(7), Value::Null, int(850)]);
        g
    }

    fn render_to_string(g: &Grid, mode: Mode) -> String {
        let mut out = Vec::new();
        render(&mut out, g, Style { mode, width: None }).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn numbers_for_people() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands_i(-1_234), "-1,234");
        assert_eq!(float(1234.5678), "1,234.57");
        assert_eq!(float(3.0), "3");
        assert_eq!(float(-0.001), "0");
        assert_eq!(percent(0.4251), "42.5%");
        assert_eq!(duration_ms(850), "850 ms");
        assert_eq!(duration_ms(12_340), "12.3 s");
        assert_eq!(duration_ms(245_000), "4m 05s");
        assert_eq!(duration_ms(7_380_000), "2h 03m");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(5 * 1024 * 1024), "5.0 MiB");
    }

    #[test]
    fn csv_quotes() {
        assert_eq!(
            render_to_string(&grid(), Mode::Csv),
            "path,views,bounce_rate,avg_ms\n\"/a,b\",1234,0.5,83000\n\"say \"\"hi\"\"\",7,,850\n"
        );
    }

    #[test]
    fn json_is_an_array_of_objects() {
        let s = render_to_string(&grid(), Mode::Json);
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v[0]["views"], 1234);
        assert_eq!(v[1]["bounce_rate"], serde_json::Value::Null);
        assert_eq!(
            render_to_string(&Grid::new(cols(&["a"])), Mode::Json),
            "[]\n"
        );
    }

    #[test]
    fn line_mode() {
        assert_eq!(
            render_to_string(&grid(), Mode::Line),
            "       path = /a,b\n      views = 1234\nbounce_rate = 0.5\n     avg_ms = 83000\n\n       path = say \"hi\"\n      views = 7\nbounce_rate = NULL\n     avg_ms = 850\n"
        );
    }

    #[test]
    fn tables_format_numbers() {
        let s = render_to_string(&grid(), Mode::Table);
        assert!(s.contains("1,234"), "{s}");
        assert!(s.contains("50.0%"), "{s}");
        assert!(s.contains("1m 23s"), "{s}");
    }
}
