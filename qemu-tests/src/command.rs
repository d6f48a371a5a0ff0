//! The QEMU command line (pure: built from a description, checked by unit tests).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The QEMU binary used unless `$IRQKIT_QEMU` names another.
pub const DEFAULT_QEMU: &str = "qemu-system-x86_64";

/// The QEMU program: `$IRQKIT_QEMU` or [`DEFAULT_QEMU`].
pub fn qemu_program() -> OsString {
    std::env::var_os("IRQKIT_QEMU").unwrap_or_else(|| OsString::from(DEFAULT_QEMU))
}

/// Everything that varies between runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QemuArgs {
    /// The kernel ELF.
    pub kernel: PathBuf,
    /// The kernel command line (`-append`).
    pub append: String,
    /// Raw disk images, attached as IDE disks 0, 1, ... in order.
    pub disks: Vec<PathBuf>,
    /// The QMP unix socket QEMU listens on.
    pub qmp_socket: PathBuf,
    /// Guest memory (`-m`).
    pub memory: String,
}

impl QemuArgs {
    /// The arguments after the program name.
    pub fn to_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = [
            "-machine",
            "pc",
            "-accel",
            "tcg",
            "-m",
            &self.memory,
            "-display",
            "none",
            "-no-reboot",
            "-serial",
            "stdio",
            // Writing v to port 0xf4 exits QEMU with (v << 1) | 1.
            "-device",
            "isa-debug-exit,iobase=0xf4,iosize=0x04",
        ]
        .into_iter()
        .map(OsString::from)
        .collect();
        for (index, disk) in self.disks.iter().enumerate() {
            args.push("-drive".into());
            args.push(drive_option(disk, index));
        }
        args.push("-kernel".into());
        args.push(self.kernel.clone().into());
        args.push("-append".into());
        args.push(self.append.clone().into());
        args.push("-qmp".into());
        let mut qmp = OsString::from("unix:");
        qmp.push(&self.qmp_socket);
        qmp.push(",server=on,wait=off");
        args.push(qmp);
        args
    }
}

/// `file=PATH,format=raw,if=ide,index=N`, with commas in the path doubled as QEMU requires.
pub fn drive_option(path: &Path, index: usize) -> OsString {
    let escaped = path.to_string_lossy().replace(',', ",,");
    OsString::from(format!("file={escaped},format=raw,if=ide,index={index}"))
}

/// `-trace enable=EVENT` for each event and `-D FILE`: QEMU's `log` trace backend writes the
/// events to QEMU's log, which `-D` sends to `file`.
pub fn trace_args(events: &[String], file: &Path) -> Vec<OsString> {
    let mut args = Vec::with_capacity(2 * events.len() + 2);
    for event in events {
        args.push("-trace".into());
        args.push(format!("enable={event}").into());
    }
    args.push("-D".into());
    args.push(file.into());
    args
}

/// The kernel command line: `test=NAME` followed by extra `key=value` words.
pub fn kernel_command_line(test: &str, extra: &[String]) -> String {
    let mut words = vec![format!("test={test}")];
    words.extend(extra.iter().cloned());
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_command_line() {
        let args = QemuArgs {
            kernel: "/k/kernel".into(),
            append: kernel_command_line("smoke", &["seed=7".into()]),
            disks: vec!["/d/disk0.img".into(), "/d/a,b.img".into()],
            qmp_socket: "/d/qmp.sock".into(),
            memory: "64M".into(),
        };
        let text: Vec<String> = args
            .to_args()
            .into_iter()
            .map(|arg| arg.into_string().unwrap())
            .collect();
        assert_eq!(
            text.join(" "),
            "-machine pc -accel tcg -m 64M -display none -no-reboot -serial stdio \
             -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
             -drive file=/d/disk0.img,format=raw,if=ide,index=0 \
             -drive file=/d/a,,b.img,format=raw,if=ide,index=1 \
             -kernel /k/kernel -append test=smoke seed=7 \
             -qmp unix:/d/qmp.sock,server=on,wait=off"
        );
        // The command line stays one argument.
        assert_eq!(
            text[text.iter().position(|a| a == "-append").unwrap() + 1],
            "test=smoke seed=7"
        );
    }

    #[test]
    fn trace_events_go_to_the_log_file() {
        let args = trace_args(
            &["ide_exec_cmd".into(), "serial_write".into()],
            Path::new("/d/trace.log"),
        );
        assert_eq!(
            args,
            [
                "-trace",
                "enable=ide_exec_cmd",
                "-trace",
                "enable=serial_write",
                "-D",
                "/d/trace.log"
            ]
        );
    }

    #[test]
    fn no_disks_no_drive() {
        let args = QemuArgs {
            kernel: "/k".into(),
            append: kernel_command_line("hang", &[]),
            disks: vec![],
            qmp_socket: "/s".into(),
            memory: "64M".into(),
        };
        assert!(!args.to_args().iter().any(|arg| arg == "-drive"));
        assert_eq!(args.append, "test=hang");
    }
}
