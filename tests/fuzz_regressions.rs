//! The fuzz targets' properties, in `cargo test`: every input kept in `fuzz/regressions/<target>/`, and
//! seeds built from the oracle vectors (the vendored subset, or `STRIPE_ORACLE_VECTORS`) in the formats
//! of `fuzz/seed.py`, go through the same functions the fuzzers run (`fuzz/src/lib.rs`).

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod fuzz;

use std::{fs, io::BufRead, path::Path};

use base64::Engine as _;

type Target = fn(&[u8]);

const TARGETS: [(&str, Target); 4] = [
    ("header", fuzz::header_target),
    ("verify", fuzz::verify_target),
    ("envelope", fuzz::envelope_target),
    ("layer", fuzz::layer_target),
];

#[test]
fn every_kept_fuzz_input_holds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut replayed = 0;
    for (name, target) in TARGETS {
        // A target with no finding has no directory in git (git keeps no empty folders); any other error
        // reading one fails the test.
        let entries = match fs::read_dir(root.join(name)) {
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            entries => entries.unwrap(),
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            {
                continue;
            }
            let input = fs::read(&path).unwrap();
            println!("{name}: {}", path.display());
            target(&input);
            replayed += 1;
        }
    }
    assert!(replayed > 0);
}

#[derive(serde::Deserialize)]
struct Case {
    id: String,
    secrets: Vec<String>,
    /// Raw JSON: a few garbage headers hold lone surrogates, which no Rust string can (skipped here).
    header: Option<Box<serde_json::value::RawValue>>,
    body_b64: String,
    now: i64,
    tolerance: i64,
}

/// The oracle cases as the fuzzers' seeds (as `fuzz/seed.py` writes them), through every target.
#[test]
fn the_oracle_seeds_hold() {
    let path = std::env::var("STRIPE_ORACLE_VECTORS")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/oracle-subset.jsonl").into());
    let (mut cases, mut compared) = (0, 0);
    for line in std::io::BufReader::new(fs::File::open(path).unwrap()).lines() {
        let case: Case = serde_json::from_str(&line.unwrap()).unwrap();
        let body = base64::engine::general_purpose::STANDARD
            .decode(&case.body_b64)
            .unwrap();
        let header = match &case.header {
            None => String::new(),
            Some(raw) => match serde_json::from_str::<String>(raw.get()) {
                Ok(header) => header,
                Err(_) => continue,
            },
        };
        let flags = if case.header.is_none() { 4 } else { 0 };
        // The SDKs' tolerance 0 turns the age check off; the case format says that with -1.
        let tolerance = if case.tolerance == 0 { -1 } else { case.tolerance };
        let id_hash = case
            .id
            .bytes()
            .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
        let seed = |n: u64| {
            let mut seed = format!(
                "{}\n{} {tolerance} {flags} {n}\n{header}\n",
                case.secrets.join(","),
                case.now
            )
            .into_bytes();
            seed.extend_from_slice(&body);
            seed
        };
        if serde_json::from_slice::<serde_json::Value>(&body).is_ok() {
            compared += 1;
        }
        fuzz::header_target(header.as_bytes());
        fuzz::envelope_target(&body);
        fuzz::verify_target(&seed(0));
        // Chunked, with an honest length and a limit just above the body; then lying, with a stream error.
        fuzz::layer_target(&seed((id_hash & 0xff_ffff_ffff) << 8 | 1 << 40 | 200));
        fuzz::layer_target(&seed((id_hash & 0xff_ffff_ffff) << 8 | 3 << 40 | 1 << 43 | 100));
        cases += 1;
    }
    assert!(cases >= 300, "{cases} cases");
    // The envelope target compares with serde_json on these: most of the oracle's bodies.
    assert!(
        compared * 10 >= cases * 8,
        "{compared} of {cases} bodies compared"
    );
}

/// Seeds that use the signing markers: the right signature in several positions, next to wrong ones.
#[test]
fn the_marker_seeds_hold() {
    let event = r#"{"id":"evt_1","object":"event","type":"invoice.paid","created":1700000000,"data":{"object":{"id":"in_1"}}}"#;
    for header in [
        "t=1700000000,v1=#0",
        "t=1700000000,v1=#3,v1=#4,v1=#1",
        "t=1700000000,v0=#0,v1=#2",
        "t=+01700000000 ,v1=#0",
        "v1=#1,t=1700000000",
    ] {
        for flags in [0, 1, 16] {
            let seed = format!(
                "whsec_a,whsec_b,whsec_c\n1700000100 300 {flags} {}\n{header}\n{event}",
                1u64 << 40 | 128
            );
            fuzz::verify_target(seed.as_bytes());
            fuzz::layer_target(seed.as_bytes());
        }
    }
}
