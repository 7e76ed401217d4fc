//! A local network of real validator processes for end-to-end tests: `tally genesis new`
//! then `tally node start` per validator, on loopback ports unique to the test process.

#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `tally` binary under test.
pub const TALLY: &str = env!("CARGO_BIN_EXE_tally");

/// A running network; stopped (and its directory removed unless a test failed) on drop.
pub struct Net {
    /// Network directory (genesis, node homes, logs).
    pub dir: PathBuf,
    /// API base URLs, one per validator.
    pub apis: Vec<String>,
    /// Validator processes.
    pub children: Vec<Option<Child>>,
}

impl Drop for Net {
    fn drop(&mut self) {
        for c in self.children.iter_mut().flatten() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if std::thread::panicking() {
            eprintln!("node homes and logs kept in {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Starts validator `i` of the network in `dir`.
pub fn start_node(dir: &Path, i: usize) -> Child {
    let home = dir.join(format!("node-{i}"));
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(home.join("node.log"))
        .unwrap();
    Command::new(TALLY)
        .args(["node", "start", "--home"])
        .arg(&home)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap()
}

impl Net {
    /// Creates and starts a network of `validators`; `salt` separates the ports of
    /// different test binaries running at once.
    pub fn start(name: &str, validators: usize, salt: u32) -> Self {
        Self::start_chain(name, validators, salt, tally_ledger::demo::CHAIN)
    }

    /// As [Net::start], for chain id `chain`.
    pub fn start_chain(name: &str, validators: usize, salt: u32, chain: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("tally-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        // Below the kernel's ephemeral range (32768+), so no outgoing connection takes them.
        let base = 20_000 + salt * 1_600 + (std::process::id() % 150) * 10;
        let status = Command::new(TALLY)
            .args([
                "genesis",
                "new",
                "--validators",
                &validators.to_string(),
                "--chain-id",
                chain,
                "--base-port",
            ])
            .arg(base.to_string())
            .arg("--home")
            .arg(&dir)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "tally genesis new failed");
        let apis = (0..validators)
            .map(|i| format!("http://127.0.0.1:{}", base + 2 * i as u32 + 1))
            .collect();
        let net = Self {
            children: (0..validators).map(|i| Some(start_node(&dir, i))).collect(),
            dir,
            apis,
        };
        wait(
            "the first finalized block",
            Duration::from_secs(120),
            || net.apis.iter().all(|a| height(a) >= 1),
        );
        net
    }

    /// The first validator's API.
    pub fn api(&self) -> &str {
        &self.apis[0]
    }

    /// The network's genesis file.
    pub fn genesis(&self) -> PathBuf {
        self.dir.join("genesis.json")
    }
}

/// GET `url` as JSON (any status), or `None` if nothing answered.
pub fn get_json(url: &str) -> Option<(u16, Value)> {
    request("GET", url, None, &[])
}

/// An HTTP request; returns the status and the JSON body (or `Value::Null`).
pub fn request(
    method: &str,
    url: &str,
    body: Option<(&str, Vec<u8>)>,
    headers: &[(&str, String)],
) -> Option<(u16, Value)> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut response = match (method, body) {
        ("GET", _) => {
            let mut req = agent.get(url);
            for (k, v) in headers {
                req = req.header(*k, v);
            }
            req.call().ok()?
        }
        (_, body) => {
            let (ct, bytes) = body.unwrap_or(("application/octet-stream", Vec::new()));
            let mut req = agent.post(url).header("content-type", ct);
            for (k, v) in headers {
                req = req.header(*k, v);
            }
            req.send(&bytes[..]).ok()?
        }
    };
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    Some((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

/// The finalized height an API reports (0 if it does not answer).
pub fn height(api: &str) -> u64 {
    get_json(&format!("{api}/status"))
        .and_then(|(_, v)| v["finalized_height"].as_u64())
        .unwrap_or(0)
}

/// Polls `done` every 100 ms until it holds; panics after `timeout`.
pub fn wait(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Milliseconds since the epoch.
pub fn now_ms() -> u64 {
    u64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// The `tally` CLI pointed at a network, with its own keystore.
pub struct Cli {
    /// API URL.
    pub api: String,
    /// Keystore directory.
    pub keys: PathBuf,
}

impl Cli {
    /// The command, ready to run.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(TALLY);
        c.args(args)
            .env("TALLY_API", &self.api)
            .env("TALLY_KEYS_DIR", &self.keys)
            .env_remove("TALLY_KEY")
            .stdin(Stdio::null());
        c
    }

    /// Runs it.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// Runs and expects success; returns stdout.
    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "tally {} failed ({}):\n{stdout}\n{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// Runs and expects exit code `code`; returns stdout and stderr together.
    #[track_caller]
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            out.status.code(),
            Some(code),
            "tally {}:\n{text}",
            args.join(" ")
        );
        text
    }

    /// Runs with `--output json` and parses stdout.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--output", "json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(&all)).unwrap()
    }
}

/// Writes `value` as JSON into `dir/name`; returns the path.
pub fn write(dir: &Path, name: &str, value: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(value).unwrap()).unwrap();
    path.to_string_lossy().to_string()
}

impl Cli {
    /// A field (`balance`, `held`, …) of an account's holding of an instrument, in minor
    /// units, as the regulator reads it; "0" when the account holds none.
    pub fn holding_field(&self, account: &str, instrument: u64, field: &str) -> String {
        let v = self.json(&["--key", "regulator", "account", "show", account]);
        v["holdings"]
            .as_array()
            .expect("holdings")
            .iter()
            .find(|h| h["instrument"] == instrument)
            .and_then(|h| h[field].as_str().map(str::to_string))
            .unwrap_or_else(|| "0".into())
    }
}

/// A `tally localnet` process, stopped with SIGTERM (and waited for) when dropped.
pub struct Stop(pub Child);

impl Drop for Stop {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.0.id()) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
        let _ = self.0.wait();
    }
}
