//! The SQL a command reads: files, `-` (standard input), and directories (their `*.sql` files
//! in migration order).

use std::cmp::Ordering;
use std::io::Read;
use std::path::Path;

/// One input: the name it is reported under, and its text.
pub struct Input {
    pub name: String,
    pub sql: String,
}

/// Reads every input, in the order given; a directory's `*.sql` files in migration order
/// (`V2__x.sql` before `V10__y.sql`; Flyway's repeatable `R__` ones after the versioned ones, as
/// Flyway applies them), leaving out the down migrations (`*.down.sql`, golang-migrate's and
/// dbmate's), which a deploy does not run.
pub fn read(paths: &[String]) -> Result<Vec<Input>, String> {
    let mut out = Vec::new();
    for path in paths {
        if path == "-" {
            let mut sql = String::new();
            std::io::stdin().read_to_string(&mut sql).map_err(|e| format!("standard input: {e}"))?;
            out.push(Input { name: "-".into(), sql });
        } else if Path::new(path).is_dir() {
            let mut files: Vec<String> = std::fs::read_dir(path)
                .map_err(|e| format!("{path}: {e}"))?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "sql"))
                .map(|p| p.to_string_lossy().into_owned())
                .filter(|p| !p.ends_with(".down.sql"))
                .collect();
            let repeatable =
                |path: &str| Path::new(path).file_name().is_some_and(|n| n.to_string_lossy().starts_with("R__"));
            files.sort_by(|a, b| repeatable(a).cmp(&repeatable(b)).then_with(|| migration_order(a, b)));
            if files.is_empty() {
                return Err(format!("{path}: no *.sql file in this directory"));
            }
            for file in files {
                out.push(read_file(&file)?);
            }
        } else {
            out.push(read_file(path)?);
        }
    }
    Ok(out)
}

fn read_file(file: &str) -> Result<Input, String> {
    let sql = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
    Ok(Input { name: file.to_string(), sql })
}

/// Names compared as migration tools order them: runs of digits by their value, the rest as
/// text (`V2__a` < `V10__b`, `0002_x` < `0010_y`).
pub fn migration_order(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.chars().peekable(), b.chars().peekable());
    loop {
        match (a.peek().copied(), b.peek().copied()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let number = |it: &mut std::iter::Peekable<std::str::Chars>| {
                    let mut digits = String::new();
                    while let Some(c) = it.peek().copied().filter(char::is_ascii_digit) {
                        digits.push(c);
                        it.next();
                    }
                    digits
                };
                let (x, y) = (number(&mut a), number(&mut b));
                let (tx, ty) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
                let order = tx.len().cmp(&ty.len()).then_with(|| tx.cmp(ty)).then_with(|| x.len().cmp(&y.len()));
                if order != Ordering::Equal {
                    return order;
                }
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(&y);
                }
                a.next();
                b.next();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::migration_order;
    use std::cmp::Ordering;

    #[test]
    fn numbers_by_value() {
        assert_eq!(migration_order("V2__a.sql", "V10__b.sql"), Ordering::Less);
        assert_eq!(migration_order("0010_x.sql", "0002_y.sql"), Ordering::Greater);
        assert_eq!(migration_order("20240101_a.sql", "20240101_b.sql"), Ordering::Less);
        let mut names = vec!["m/10_c.sql", "m/9_b.sql", "m/1_a.sql"];
        names.sort_by(|a, b| migration_order(a, b));
        assert_eq!(names, ["m/1_a.sql", "m/9_b.sql", "m/10_c.sql"]);
    }
}
