//! Where `depot download` writes: a safe local file name from the stored
//! name, which the CLI does not trust. The name comes from a query reply (a
//! single replica could forge it) and from whoever uploaded the file, and a
//! file stored before the directory refused path separators may still hold
//! one.
//!
//! The rules (`safe_file_name`):
//! - only the last component is kept: everything up to the last `/` or `\`
//!   goes, so `../../etc/passwd` becomes `passwd` and `C:\x` becomes `x`;
//! - control characters (NUL, newline, DEL, C1) and the invisible Unicode
//!   characters that reorder or hide text (bidi overrides and isolates,
//!   zero-width characters, BOM) become `_`, and so do `:` (a Windows drive
//!   or stream separator);
//! - surrounding whitespace is trimmed;
//! - leading dots become `_`, so a download never creates a hidden file
//!   (`.bashrc` → `_bashrc`) and never is `.` or `..`;
//! - a name that is empty after all this is replaced by
//!   `depot-<file id>`;
//! - the result is at most [`MAX_FILE_NAME_BYTES`] bytes, cut at a character
//!   boundary, keeping a short extension.
//!
//! The file is written into the current directory, or into the `-o`
//! directory, or to the exact `-o` path the user gave (their own choice,
//! not sanitised). Existing files are replaced only with `--force`.

use std::path::{Path, PathBuf};

/// `NAME_MAX` of common file systems (ext4, APFS, NTFS in UTF-16 units).
pub const MAX_FILE_NAME_BYTES: usize = 255;
/// An extension longer than this is not kept apart when a name is cut.
const MAX_KEPT_EXTENSION_BYTES: usize = 16;

/// Characters replaced by `_`: controls, `:` and invisible formatting
/// characters that can disguise a name (`evil\u{202e}txt.exe`).
fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || c == ':'
        || matches!(c,
            '\u{200b}'..='\u{200f}' // zero-width space/joiners, LRM, RLM
            | '\u{202a}'..='\u{202e}' // bidi embeddings and overrides
            | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
            | '\u{2066}'..='\u{2069}' // bidi isolates
            | '\u{feff}' // BOM / zero-width no-break space
        )
}

/// A file name that is one safe path component (see the module comment);
/// `fallback` replaces a name with nothing usable left.
pub fn safe_file_name(stored: &str, fallback: &str) -> String {
    let base = stored.rsplit(['/', '\\']).next().unwrap_or("");
    // Only dots, whitespace and replaced characters (`.`, `..`, `\r\n`): nothing to keep.
    if !base.chars().any(|c| !is_unsafe_char(c) && !c.is_whitespace() && c != '.') {
        return truncate_name(fallback, MAX_FILE_NAME_BYTES);
    }
    let cleaned: String = base.chars().map(|c| if is_unsafe_char(c) { '_' } else { c }).collect();
    let trimmed = cleaned.trim();
    let rest = trimmed.trim_start_matches('.');
    let name = "_".repeat(trimmed.len() - rest.len()) + rest;
    truncate_name(&name, MAX_FILE_NAME_BYTES)
}

/// `name` cut to at most `max` bytes at a character boundary, keeping a
/// short extension (`…long.pdf` stays a `.pdf`).
fn truncate_name(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_string();
    }
    let ext = match name.rfind('.') {
        Some(i) if i > 0 && name.len() - i <= MAX_KEPT_EXTENSION_BYTES => &name[i..],
        _ => "",
    };
    let mut cut = max - ext.len();
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{ext}", &name[..cut])
}

/// A safe relative path for a stored name with folders, for downloads of
/// several files into one folder: `photos/2024/a.jpg` keeps its folders.
/// Each `/`- or `\\`-separated component gets the rules of
/// [`safe_file_name`]; components with nothing left (empty, `.`, `..`) are
/// dropped, so the result never climbs out of the folder it is joined to. A
/// name with no component left becomes `fallback`.
pub fn safe_relative_path(stored: &str, fallback: &str) -> PathBuf {
    let parts: Vec<String> =
        stored.split(['/', '\\']).map(|c| safe_file_name(c, "")).filter(|c| !c.is_empty()).collect();
    if parts.is_empty() {
        return PathBuf::from(safe_file_name(fallback, "depot-file"));
    }
    parts.iter().collect()
}

/// Where a download goes: the `-o` path as given; inside it when it is an
/// existing directory; else the safe name in the current directory.
pub fn output_path(stored_name: &str, fallback: &str, output: Option<&Path>) -> PathBuf {
    let safe = || PathBuf::from(safe_file_name(stored_name, fallback));
    match output {
        Some(o) if o.is_dir() => o.join(safe()),
        Some(o) => o.to_path_buf(),
        None => safe(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Component;

    const FB: &str = "depot-00112233445566778899aabbccddeeff";

    fn safe(s: &str) -> String {
        safe_file_name(s, FB)
    }

    /// The properties every result has, whatever the input.
    fn assert_one_safe_component(input: &str) {
        let out = safe(input);
        assert!(!out.is_empty(), "{input:?}");
        assert!(out.len() <= MAX_FILE_NAME_BYTES, "{input:?} -> {} bytes", out.len());
        assert!(!out.contains(['/', '\\', ':']), "{input:?} -> {out:?}");
        assert!(!out.starts_with('.'), "{input:?} -> {out:?}");
        assert!(!out.chars().any(is_unsafe_char), "{input:?} -> {out:?}");
        let p = Path::new(&out);
        let comps: Vec<_> = p.components().collect();
        assert_eq!(comps.len(), 1, "{input:?} -> {out:?}");
        assert!(matches!(comps[0], Component::Normal(_)), "{input:?} -> {out:?}");
        assert_eq!(Path::new("/base").join(p).parent(), Some(Path::new("/base")), "{input:?} stays inside");
    }

    #[test]
    fn hostile_names_become_one_component() {
        let cases: &[(&str, &str)] = &[
            ("report.pdf", "report.pdf"),
            ("naïve café.txt", "naïve café.txt"),
            ("../../etc/passwd", "passwd"),
            ("/abs", "abs"),
            ("/etc/", FB),
            ("a/b", "b"),
            ("..", FB),
            (".", FB),
            ("", FB),
            ("/", FB),
            ("../", FB),
            ("C:\\x", "x"),
            ("C:", "C_"),
            ("..\\..\\windows\\system32\\cmd.exe", "cmd.exe"),
            ("a\0b", "a_b"),
            ("line1\nline2", "line1_line2"),
            ("\r\n", FB),
            ("tab\there", "tab_here"),
            ("bell\u{7}", "bell_"),
            ("del\u{7f}", "del_"),
            (".bashrc", "_bashrc"),
            ("..hidden", "__hidden"),
            ("...", FB),
            ("  spaced  ", "spaced"),
            ("evil\u{202e}txt.exe", "evil_txt.exe"),
            ("zero\u{200b}width", "zero_width"),
            ("a:b", "a_b"),
            ("_", "_"),
            ("___", "___"),
        ];
        for (input, want) in cases {
            assert_eq!(safe(input), *want, "{input:?}");
            assert_one_safe_component(input);
        }
    }

    #[test]
    fn long_names_are_cut_to_255_bytes() {
        let exact = "x".repeat(MAX_FILE_NAME_BYTES);
        assert_eq!(safe(&exact), exact, "a 255-byte name is kept whole");
        let long = format!("{}.tar.gz", "y".repeat(400));
        let out = safe(&long);
        assert_eq!(out.len(), MAX_FILE_NAME_BYTES);
        assert!(out.ends_with(".gz") && out.starts_with("yyy"), "{out}");
        // Multi-byte characters are never split.
        let wide = "é".repeat(200);
        let out = safe(&wide);
        assert!(out.len() <= MAX_FILE_NAME_BYTES && out.chars().all(|c| c == 'é'), "{out}");
        assert_eq!(out.len(), 254);
        // A long "extension" is not kept apart.
        let out = safe(&format!("a.{}", "z".repeat(300)));
        assert_eq!(out.len(), MAX_FILE_NAME_BYTES);
        for input in [exact, long, wide, format!("../{}", "b".repeat(1000)), "é".repeat(128)] {
            assert_one_safe_component(&input);
        }
    }

    #[test]
    fn arbitrary_strings_are_always_safe() {
        // Every mix of the characters that matter, up to length 4.
        let alphabet = ['/', '\\', '.', ' ', '\0', '\n', ':', 'a', '\u{202e}', 'é', '_'];
        let mut stack = vec![String::new()];
        while let Some(s) = stack.pop() {
            assert_one_safe_component(&s);
            if s.chars().count() < 4 {
                for c in alphabet {
                    stack.push(format!("{s}{c}"));
                }
            }
        }
    }

    #[test]
    fn relative_paths_keep_folders_and_stay_inside() {
        let cases: &[(&str, &str)] = &[
            ("photos/2024/a.jpg", "photos/2024/a.jpg"),
            ("a.txt", "a.txt"),
            ("../../etc/passwd", "etc/passwd"),
            ("/abs/x", "abs/x"),
            ("a/../../b", "a/b"),
            ("a//b/./c", "a/b/c"),
            ("C:\\win\\x.exe", "C_/win/x.exe"),
            (".ssh/authorized_keys", "_ssh/authorized_keys"),
            ("dir/\u{202e}gpj.exe", "dir/_gpj.exe"),
            ("../..", FB),
            ("", FB),
            ("/", FB),
        ];
        for (input, want) in cases {
            assert_eq!(safe_relative_path(input, FB), PathBuf::from(want), "{input:?}");
        }
        let alphabet = ['/', '\\', '.', ' ', '\0', ':', 'a', '\u{202e}'];
        let mut stack = vec![String::new()];
        while let Some(s) = stack.pop() {
            let p = safe_relative_path(&s, FB);
            assert!(p.components().all(|c| matches!(c, Component::Normal(_))), "{s:?} -> {p:?}");
            for c in p.components() {
                assert_one_safe_component(c.as_os_str().to_str().unwrap());
            }
            if s.chars().count() < 5 {
                for c in alphabet {
                    stack.push(format!("{s}{c}"));
                }
            }
        }
    }

    #[test]
    fn output_goes_to_the_name_the_given_path_or_into_the_given_directory() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(output_path("../evil", FB, None), PathBuf::from("evil"));
        assert_eq!(output_path("../evil", FB, Some(dir.path())), dir.path().join("evil"));
        let exact = dir.path().join("chosen.bin");
        assert_eq!(output_path("../evil", FB, Some(&exact)), exact);
    }
}
