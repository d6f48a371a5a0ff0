#!/usr/bin/env python3
"""Generates crates/ps2/src/keycode/generated.rs from QEMU's keycodemapdb table.

Usage (from anywhere):
    python3 crates/ps2/tools/gen_tables.py           # rewrite the generated file
    python3 crates/ps2/tools/gen_tables.py --check   # exit 1 if the file is out of date

Input: crates/ps2/third_party/keycodemapdb/keymaps.csv (BSD-3, see LICENSE.BSD beside it).

What comes from the csv: which keys exist (every Linux keycode below 256 with a scancode, a USB
usage or a QEMU name), their Linux keycode, their set 1 / 2 / 3 scancodes, their QEMU QKeyCode
names and, for keyboard-page usages, their USB HID usage. What this file adds by hand (the
tables below): the Rust names, HID usages on the consumer / generic-desktop pages for media and
system keys, two keys the csv has no row for (Alt+Print Screen = SysRq, Ctrl+Pause = Break), and
the corrections where the csv uses Linux's internal encoding or a conflicting code instead of
the wire bytes (see CORRECTIONS). tests/conformance.rs checks the decoder against every row.
"""
import csv
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CRATE = os.path.dirname(HERE)
CSV = os.path.join(CRATE, "third_party", "keycodemapdb", "keymaps.csv")
LICENSE = os.path.join(CRATE, "third_party", "keycodemapdb", "LICENSE.BSD")
OUT = os.path.join(CRATE, "src", "keycode", "generated.rs")

KB, GD, CONSUMER, VENDOR = 0x07, 0x01, 0x0C, 0xFF00

# Linux keycode -> (Rust name, HID usage override or None = keyboard page usage from the csv).
# VENDOR means "no standard usage": the key maps to (0xFF00, Linux keycode).
NAMES = {
    1: ("Escape", None), 2: ("Digit1", None), 3: ("Digit2", None), 4: ("Digit3", None),
    5: ("Digit4", None), 6: ("Digit5", None), 7: ("Digit6", None), 8: ("Digit7", None),
    9: ("Digit8", None), 10: ("Digit9", None), 11: ("Digit0", None), 12: ("Minus", None),
    13: ("Equals", None), 14: ("Backspace", None), 15: ("Tab", None), 16: ("Q", None),
    17: ("W", None), 18: ("E", None), 19: ("R", None), 20: ("T", None), 21: ("Y", None),
    22: ("U", None), 23: ("I", None), 24: ("O", None), 25: ("P", None),
    26: ("LeftBracket", None), 27: ("RightBracket", None), 28: ("Enter", None),
    29: ("LeftCtrl", None), 30: ("A", None), 31: ("S", None), 32: ("D", None), 33: ("F", None),
    34: ("G", None), 35: ("H", None), 36: ("J", None), 37: ("K", None), 38: ("L", None),
    39: ("Semicolon", None), 40: ("Quote", None), 41: ("Backquote", None),
    42: ("LeftShift", None), 43: ("Backslash", None), 44: ("Z", None), 45: ("X", None),
    46: ("C", None), 47: ("V", None), 48: ("B", None), 49: ("N", None), 50: ("M", None),
    51: ("Comma", None), 52: ("Period", None), 53: ("Slash", None), 54: ("RightShift", None),
    55: ("NumpadStar", None), 56: ("LeftAlt", None), 57: ("Space", None),
    58: ("CapsLock", None), 59: ("F1", None), 60: ("F2", None), 61: ("F3", None),
    62: ("F4", None), 63: ("F5", None), 64: ("F6", None), 65: ("F7", None), 66: ("F8", None),
    67: ("F9", None), 68: ("F10", None), 69: ("NumLock", None), 70: ("ScrollLock", None),
    71: ("Numpad7", None), 72: ("Numpad8", None), 73: ("Numpad9", None),
    74: ("NumpadMinus", None), 75: ("Numpad4", None), 76: ("Numpad5", None),
    77: ("Numpad6", None), 78: ("NumpadPlus", None), 79: ("Numpad1", None),
    80: ("Numpad2", None), 81: ("Numpad3", None), 82: ("Numpad0", None),
    83: ("NumpadPeriod", None),
    # 84: Linux leaves it unnamed; QEMU lists set 1 0x54 under it: that byte is Alt+Print Screen.
    84: ("SysRq", (KB, 0x9A)),
    85: ("Lang5", None), 86: ("IntlBackslash", None), 87: ("F11", None), 88: ("F12", None),
    89: ("IntlRo", None), 90: ("Lang3", None), 91: ("Lang4", None), 92: ("Convert", None),
    93: ("KatakanaHiragana", None), 94: ("NonConvert", None), 95: ("NumpadJpComma", None),
    96: ("NumpadEnter", None), 97: ("RightCtrl", None), 98: ("NumpadSlash", None),
    99: ("PrintScreen", None), 100: ("RightAlt", None), 101: ("LineFeed", VENDOR),
    102: ("Home", None), 103: ("Up", None), 104: ("PageUp", None), 105: ("Left", None),
    106: ("Right", None), 107: ("End", None), 108: ("Down", None), 109: ("PageDown", None),
    110: ("Insert", None), 111: ("Delete", None), 112: ("Macro", VENDOR),
    113: ("VolumeMute", (CONSUMER, 0xE2)), 114: ("VolumeDown", (CONSUMER, 0xEA)),
    115: ("VolumeUp", (CONSUMER, 0xE9)), 116: ("Power", None), 117: ("NumpadEquals", None),
    118: ("NumpadPlusMinus", (KB, 0xD7)), 119: ("Pause", None), 120: ("Scale", VENDOR),
    121: ("NumpadComma", None), 122: ("Hangul", None), 123: ("Hanja", None),
    124: ("IntlYen", None), 125: ("LeftMeta", None), 126: ("RightMeta", None),
    127: ("ContextMenu", None), 128: ("Stop", None), 129: ("Again", None),
    130: ("Props", (CONSUMER, 0x209)), 131: ("Undo", None), 132: ("Front", None),
    133: ("Copy", None), 134: ("Open", None), 135: ("Paste", None), 136: ("Find", None),
    137: ("Cut", None), 138: ("Help", None), 139: ("Menu", None),
    140: ("Calculator", (CONSUMER, 0x192)), 141: ("Setup", VENDOR),
    142: ("Sleep", (GD, 0x82)), 143: ("Wake", (GD, 0x83)), 144: ("File", VENDOR),
    145: ("SendFile", VENDOR), 146: ("DeleteFile", VENDOR), 147: ("Xfer", VENDOR),
    148: ("Prog1", VENDOR), 149: ("Prog2", VENDOR), 150: ("Www", (CONSUMER, 0x196)),
    151: ("MsDos", VENDOR), 152: ("ScreenLock", (CONSUMER, 0x19E)),
    153: ("Direction", VENDOR), 154: ("CycleWindows", VENDOR),
    155: ("Mail", (CONSUMER, 0x18A)), 156: ("Bookmarks", (CONSUMER, 0x22A)),
    157: ("Computer", (CONSUMER, 0x194)), 158: ("BrowserBack", (CONSUMER, 0x224)),
    159: ("BrowserForward", (CONSUMER, 0x225)), 160: ("CloseCd", VENDOR),
    161: ("EjectCd", (CONSUMER, 0xB8)), 162: ("EjectCloseCd", VENDOR),
    163: ("MediaNextTrack", (CONSUMER, 0xB5)), 164: ("MediaPlayPause", (CONSUMER, 0xCD)),
    165: ("MediaPreviousTrack", (CONSUMER, 0xB6)), 166: ("MediaStop", (CONSUMER, 0xB7)),
    167: ("MediaRecord", (CONSUMER, 0xB2)), 168: ("MediaRewind", (CONSUMER, 0xB4)),
    169: ("Phone", VENDOR), 171: ("Config", VENDOR),
    172: ("BrowserHome", (CONSUMER, 0x223)), 173: ("BrowserRefresh", (CONSUMER, 0x227)),
    176: ("Edit", VENDOR), 177: ("ScrollUp", (CONSUMER, 0x233)),
    178: ("ScrollDown", (CONSUMER, 0x234)), 179: ("NumpadLeftParen", None),
    180: ("NumpadRightParen", None), 181: ("New", (CONSUMER, 0x201)),
    182: ("Redo", (CONSUMER, 0x279)),
    183: ("F13", None), 184: ("F14", None), 185: ("F15", None), 186: ("F16", None),
    187: ("F17", None), 188: ("F18", None), 189: ("F19", None), 190: ("F20", None),
    191: ("F21", None), 192: ("F22", None), 193: ("F23", None), 194: ("F24", None),
    195: ("Unnamed195", VENDOR), 196: ("Unnamed196", VENDOR), 197: ("Unnamed197", VENDOR),
    198: ("Unnamed198", VENDOR), 199: ("Unnamed199", VENDOR),
    200: ("PlayCd", VENDOR), 201: ("PauseCd", (CONSUMER, 0xB1)), 202: ("Prog3", VENDOR),
    203: ("Prog4", VENDOR), 204: ("Dashboard", (CONSUMER, 0x2A2)), 205: ("Suspend", VENDOR),
    206: ("Close", (CONSUMER, 0x203)), 207: ("Play", (CONSUMER, 0xB0)),
    208: ("FastForward", (CONSUMER, 0xB3)), 209: ("BassBoost", (CONSUMER, 0xE5)),
    210: ("Print", (CONSUMER, 0x208)), 211: ("Hp", VENDOR), 212: ("Camera", VENDOR),
    213: ("Sound", VENDOR), 214: ("Question", VENDOR), 215: ("Email", VENDOR),
    216: ("Chat", (CONSUMER, 0x199)), 217: ("BrowserSearch", (CONSUMER, 0x221)),
    218: ("Connect", VENDOR), 219: ("Finance", (CONSUMER, 0x191)), 220: ("Sport", VENDOR),
    221: ("Shop", VENDOR), 222: ("AltErase", (KB, 0x99)), 223: ("Cancel", (CONSUMER, 0x25F)),
    224: ("BrightnessDown", (CONSUMER, 0x70)), 225: ("BrightnessUp", (CONSUMER, 0x6F)),
    226: ("MediaSelect", (CONSUMER, 0x183)), 227: ("SwitchVideoMode", VENDOR),
    228: ("KbdIllumToggle", (CONSUMER, 0x7C)), 229: ("KbdIllumDown", (CONSUMER, 0x7A)),
    230: ("KbdIllumUp", (CONSUMER, 0x79)), 231: ("Send", (CONSUMER, 0x28C)),
    232: ("Reply", (CONSUMER, 0x289)), 233: ("ForwardMail", (CONSUMER, 0x28B)),
    234: ("Save", (CONSUMER, 0x207)), 235: ("Documents", (CONSUMER, 0x1A7)),
    236: ("Battery", VENDOR), 237: ("Bluetooth", VENDOR), 238: ("Wlan", VENDOR),
    239: ("Uwb", VENDOR),
}

# Short descriptions where the name alone does not say which key it is.
DESCRIPTIONS = {
    "Minus": "`-` / `_`", "Equals": "`=` / `+`", "LeftBracket": "`[` / `{`",
    "RightBracket": "`]` / `}`", "Semicolon": "`;` / `:`", "Quote": "`'` / `\"`",
    "Backquote": "`` ` `` / `~`", "Backslash": "`\\` / `|` (also ISO `#` / `~`)",
    "Comma": "`,` / `<`", "Period": "`.` / `>`", "Slash": "`/` / `?`",
    "NumpadStar": "Keypad `*`", "NumpadMinus": "Keypad `-`", "NumpadPlus": "Keypad `+`",
    "NumpadSlash": "Keypad `/`", "NumpadPeriod": "Keypad `.` / Delete",
    "NumpadEquals": "Keypad `=`", "NumpadPlusMinus": "Keypad `+/-`",
    "NumpadComma": "Keypad `,` (Brazilian keypad)", "NumpadJpComma": "Keypad `,` (Japanese keypad)",
    "SysRq": "Alt+Print Screen (System Request); Linux reports it as `KEY_SYSRQ` like Print Screen",
    "Lang5": "Zenkaku/Hankaku (Japanese, HID Lang5)", "IntlBackslash": "ISO key left of Z (`<` / `>`)",
    "IntlRo": "Japanese Ro (`\\` / `_`)", "Lang3": "Katakana (Japanese, HID Lang3)",
    "Lang4": "Hiragana (Japanese, HID Lang4)", "Convert": "Henkan (Japanese convert)",
    "KatakanaHiragana": "Katakana/Hiragana/Romaji (Japanese)",
    "NonConvert": "Muhenkan (Japanese non-convert)", "Hangul": "Hangul/English (Korean, HID Lang1); sends no break code",
    "Hanja": "Hanja (Korean, HID Lang2); sends no break code", "IntlYen": "Japanese Yen (`¥` / `|`)",
    "LeftMeta": "Left Windows / Super / Command", "RightMeta": "Right Windows / Super / Command",
    "ContextMenu": "Application / context menu (Linux `KEY_COMPOSE`)",
    "Pause": "Pause; sends an E1 sequence and no break code",
    "PrintScreen": "Print Screen (Linux `KEY_SYSRQ`)",
    "Stop": "Stop (browser stop on multimedia keyboards)",
    "Www": "Web browser launch", "Computer": "My Computer launch", "Mail": "Mail launch",
    "Unnamed195": "Unnamed Linux keycode 195", "Unnamed196": "Unnamed Linux keycode 196",
    "Unnamed197": "Unnamed Linux keycode 197", "Unnamed198": "Unnamed Linux keycode 198",
    "Unnamed199": "Unnamed Linux keycode 199",
    "Break": "Ctrl+Pause (Break); sends its make and break at once",
    "Power": "ACPI Power", "Sleep": "ACPI Sleep", "Wake": "ACPI Wake",
}

# Keys with no Linux keycode of their own below 256: (Rust name, discriminant, evdev, HID).
EXTRA = [
    # Ctrl+Pause. Linux has KEY_BREAK (0x19b); HID has no separate usage: Pause (0x48) it is.
    ("Break", 0xF7, 0x19B, (KB, 0x48)),
]
EXTRA_LINUX_NAMES = {"Break": "KEY_BREAK", "SysRq": "KEY_SYSRQ"}
# SysRq is reported by Linux as KEY_SYSRQ (99), the code it shares with Print Screen.
EVDEV_OVERRIDE = {"SysRq": 99}

# QEMU names: the first one the csv lists for a key, unless chosen here.
QCODE_PREFERRED = {55: "kp_multiply", 99: "print", 84: "sysrq"}
QCODE_EXTRA_ALIASES = {}  # none needed: every csv name is accepted by from_qcode

# Wire codes the csv does not give (or gives in Linux's internal encoding / conflicting).
# key name -> {set: code or None (None = the key has no code in that set)}.
CORRECTIONS = {
    # csv: KEY_SYSRQ set1 0x54 / set2 0x7f (Linux internal). On the wire Print Screen is E0 37 /
    # E0 7C (after a fake shift); Alt+Print Screen is 0x54 / 0x84 and is our SysRq.
    "PrintScreen": {1: 0xE037, 2: 0xE07C},
    "SysRq": {1: 0x54, 2: 0x84, 3: None},
    # csv: KEY_PAUSE set1 0xe046 / set2 0xe077 (Linux internal). On the wire Pause is an E1
    # sequence handled by the decoder itself; E0 46 / E0 7E is Ctrl+Pause = Break.
    "Pause": {1: None, 2: None},
    "Break": {1: 0xE046, 2: 0xE07E, 3: None},
    # csv set 3 lists Keypad / as 0x4a and Keypad - as 0x4e, which are Slash and Minus in set 3.
    # IBM's set 3 (and Linux's atkbd set-3 table) put them at 0x77 and 0x84.
    "NumpadSlash": {3: 0x77},
    "NumpadMinus": {3: 0x84},
    # csv set 3 lists 0x87 for both Hiragana and Katakana/Hiragana; Linux maps it to the latter.
    "Lang4": {3: None},
}
# Extra set-2 bytes accepted when decoding (never produced by the encoder).
SET2_DECODE_ALIASES = {0x7F: "SysRq"}  # Linux's internal code for 0x84, which QEMU sends for qcode sysrq

# Set 1 E0 36 is both BassBoost (csv) and the fake right shift: the decoder decides by context.
SET1_E0_FAKE_SHIFTS = (0x2A, 0x36)
SET2_E0_FAKE_SHIFTS = (0x12, 0x59)


def parse_code(s):
    return int(s, 16) if s else None


def human(name):
    out = ""
    for i, ch in enumerate(name):
        if i and ch.isupper() and not name[i - 1].isupper():
            out += " "
        elif i and ch.isdigit() and not name[i - 1].isdigit():
            out += " "
        out += ch
    return out


def load():
    rows = list(csv.DictReader(open(CSV, newline="")))
    keys = {}
    for r in rows:
        k = int(r["Linux Keycode"], 0)
        if k not in NAMES:
            continue
        e = keys.setdefault(k, {"linux": "", "set": {1: None, 2: None, 3: None},
                                "usb": [], "qcodes": []})
        if r["Linux Name"] and not e["linux"]:
            e["linux"] = r["Linux Name"]
        if r["Linux Name"] == "KEY_LEFTSHIFT":
            e["linux"] = "KEY_LEFTSHIFT"
        for s, col in ((1, "AT set1 keycode"), (2, "AT set2 keycode"), (3, "AT set3 keycode")):
            c = parse_code(r[col])
            if c is not None:
                e["set"][s] = c
        if r["USB Keycodes"]:
            u = int(r["USB Keycodes"])
            if u not in e["usb"]:
                e["usb"].append(u)
        q = r["QEMU QKeyCode"]
        if q and q != "unmapped" and q not in e["qcodes"]:
            e["qcodes"].append(q)
    missing = set(NAMES) - set(keys)
    assert not missing, f"NAMES lists keycodes absent from the csv: {missing}"
    # Every csv keycode below 256 with any mapping must be named (255 is the set-2 fake shift).
    for r in rows:
        k = int(r["Linux Keycode"], 0)
        if k < 256 and k not in NAMES and k != 255 and any(
                r[c] for c in ("AT set1 keycode", "AT set2 keycode", "AT set3 keycode", "USB Keycodes")):
            raise SystemExit(f"csv keycode {k} has codes but no Rust name")
    out = []
    for k in sorted(keys):
        name, hid = NAMES[k]
        e = keys[k]
        if hid is None:
            real = [u for u in e["usb"] if u < 0xE8]
            assert real, f"{name}: no keyboard-page usage in the csv, give one"
            hid = (KB, real[0])
        elif hid == VENDOR:
            hid = (VENDOR, k)
        sets = dict(e["set"])
        sets.update(CORRECTIONS.get(name, {}))
        qc = e["qcodes"]
        pref = QCODE_PREFERRED.get(k)
        if pref:
            qc = [pref] + [q for q in qc if q != pref]
        if name == "PrintScreen":
            qc = [q for q in qc if q != "sysrq"]
        out.append({"name": name, "disc": k, "evdev": EVDEV_OVERRIDE.get(name, k),
                    "linux": e["linux"] or EXTRA_LINUX_NAMES.get(name, f"keycode {k}"),
                    "hid": hid, "sets": sets, "qcodes": qc})
    for name, disc, evdev, hid in EXTRA:
        assert disc not in keys
        sets = {1: None, 2: None, 3: None}
        sets.update(CORRECTIONS.get(name, {}))
        out.append({"name": name, "disc": disc, "evdev": evdev,
                    "linux": EXTRA_LINUX_NAMES[name], "hid": hid, "sets": sets, "qcodes": []})
    out.sort(key=lambda e: e["disc"])
    return out


def fmt_code(c):
    if c is None:
        return "none"
    if c > 0xFF:
        return f"`E0 {c & 0xFF:02X}`"
    return f"`{c:02X}`"


def generate():
    keys = load()
    lic = open(LICENSE).read().rstrip("\n").splitlines()
    w = []
    p = w.append
    p("// @generated by crates/ps2/tools/gen_tables.py from third_party/keycodemapdb/keymaps.csv.")
    p("// Do not edit by hand: edit the generator and run `python3 crates/ps2/tools/gen_tables.py`.")
    p("//")
    p("// The key data comes from QEMU's keycodemapdb (data/keymaps.csv), used under this licence:")
    p("//")
    for line in lic:
        p(("// " + line).rstrip())
    p("")
    p("use super::HidUsage;")
    p("")
    p("/// A physical key, named after its position on a US keyboard (not the symbol it prints).")
    p("///")
    p("/// Every key that QEMU's keycode table gives a PC scancode, a USB usage or a QEMU name is")
    p("/// here, plus [`KeyCode::SysRq`] (Alt+Print Screen) and [`KeyCode::Break`] (Ctrl+Pause), which")
    p("/// keyboards send as keys of their own. Discriminants follow the Linux keycode where that is")
    p("/// below 256 (so they fit a 256-bit key set); use [`KeyCode::to_evdev`] rather than `as`.")
    p("#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]")
    p('#[cfg_attr(feature = "defmt", derive(defmt::Format))]')
    p("#[repr(u8)]")
    p("pub enum KeyCode {")
    for e in keys:
        desc = DESCRIPTIONS.get(e["name"], human(e["name"]))
        s = e["sets"]
        hp, hi = e["hid"]
        q = ", ".join(f"`{x}`" for x in e["qcodes"]) or "none"
        p(f"    /// {desc}.")
        p("    ///")
        p(f"    /// Linux `{e['linux']}` ({e['evdev']}); set 1 {fmt_code(s[1])}, set 2 {fmt_code(s[2])}, "
          f"set 3 {fmt_code(s[3])}; HID {hp:#04x}:{hi:#04x}; QEMU {q}.")
        p(f"    {e['name']} = {e['disc']},")
    p("}")
    p("")
    p("impl KeyCode {")
    p(f"    /// How many keys there are.")
    p(f"    pub const COUNT: usize = {len(keys)};")
    p("")
    p("    /// Every key, in discriminant order.")
    p("    pub const ALL: [KeyCode; Self::COUNT] = [")
    for e in keys:
        p(f"        KeyCode::{e['name']},")
    p("    ];")
    p("")
    p("    /// The key whose discriminant (`key as u8`) is `index`, if any.")
    p("    ///")
    p("    /// # Examples")
    p("    ///")
    p("    /// ```")
    p("    /// use irqkit_ps2::KeyCode;")
    p("    /// assert_eq!(KeyCode::from_index(KeyCode::A as u8), Some(KeyCode::A));")
    p("    /// assert_eq!(KeyCode::from_index(0), None);")
    p("    /// ```")
    p("    pub const fn from_index(index: u8) -> Option<KeyCode> {")
    p("        INDEX[index as usize]")
    p("    }")
    p("")
    p("    /// The key's name, as written in Rust (`\"LeftShift\"`).")
    p("    pub const fn name(self) -> &'static str {")
    p("        match self {")
    for e in keys:
        p(f"            KeyCode::{e['name']} => \"{e['name']}\",")
    p("        }")
    p("    }")
    p("")
    p("    /// The Linux input-event (evdev) keycode Linux reports for this key.")
    p("    ///")
    p("    /// [`KeyCode::SysRq`] reports `KEY_SYSRQ` (99) like [`KeyCode::PrintScreen`], as Linux does.")
    p("    pub const fn to_evdev(self) -> u16 {")
    p("        match self {")
    for e in keys:
        p(f"            KeyCode::{e['name']} => {e['evdev']},")
    p("        }")
    p("    }")
    p("")
    p("    /// The key for a Linux evdev keycode, if it is a key of this type.")
    p("    ///")
    p("    /// 99 (`KEY_SYSRQ`) gives [`KeyCode::PrintScreen`]; 84 (unnamed in Linux, listed by")
    p("    /// QEMU's table with the Alt+Print Screen byte) gives [`KeyCode::SysRq`].")
    p("    pub const fn from_evdev(code: u16) -> Option<KeyCode> {")
    p("        match code {")
    seen = set()
    for e in keys:
        code = e["evdev"]
        if code in seen or e["name"] in EVDEV_OVERRIDE:
            continue
        seen.add(code)
        p(f"            {code} => Some(KeyCode::{e['name']}),")
    p("            84 => Some(KeyCode::SysRq),")
    p("            _ => None,")
    p("        }")
    p("    }")
    p("")
    p("    /// The USB HID usage of this key: keyboard page (0x07) for keyboard keys, consumer page")
    p("    /// (0x0C) for media and application keys, generic desktop (0x01) for Sleep and Wake, and")
    p("    /// the vendor page 0xFF00 with the Linux keycode as id for keys with no standard usage.")
    p("    pub const fn to_hid(self) -> HidUsage {")
    p("        let (page, id) = match self {")
    hid_seen = {}
    for e in keys:
        hp, hi = e["hid"]
        p(f"            KeyCode::{e['name']} => ({hp:#06x}, {hi:#05x}),")
        if (hp, hi) not in hid_seen:
            hid_seen[(hp, hi)] = e["name"]
    p("        };")
    p("        HidUsage { page, id }")
    p("    }")
    p("")
    p("    /// The key for a USB HID usage, if any key has it.")
    p("    ///")
    p("    /// Besides every value [`KeyCode::to_hid`] returns, this accepts the keyboard-page usages")
    p("    /// QEMU's table lists for keys that [`KeyCode::to_hid`] puts on another page (Mute, Volume")
    p("    /// Up/Down, Power), the ISO `#` key (0x32, which PS/2 sends as Backslash) and System Power")
    p("    /// Down (0x01:0x81).")
    p("    pub const fn from_hid(usage: HidUsage) -> Option<KeyCode> {")
    p("        match (usage.page, usage.id) {")
    for (hp, hi), name in hid_seen.items():
        p(f"            ({hp:#06x}, {hi:#05x}) => Some(KeyCode::{name}),")
    # aliases: csv keyboard-page usages that to_hid moved elsewhere
    aliases = []
    for e in keys:
        for u in csv_usb(e):
            if u < 0xE8 and (KB, u) not in hid_seen and (KB, u) not in [a[0] for a in aliases]:
                aliases.append(((KB, u), e["name"]))
    aliases.append(((GD, 0x81), "Power"))
    aliases.append(((CONSUMER, 0x226), "Stop"))
    for (hp, hi), name in aliases:
        assert (hp, hi) not in hid_seen
        p(f"            ({hp:#06x}, {hi:#05x}) => Some(KeyCode::{name}),")
    p("            _ => None,")
    p("        }")
    p("    }")
    p("")
    p("    /// The QEMU `QKeyCode` name (as used by `sendkey` and QMP `send-key`), if QEMU has one.")
    p("    pub const fn to_qcode(self) -> Option<&'static str> {")
    p("        match self {")
    for e in keys:
        if e["qcodes"]:
            p(f"            KeyCode::{e['name']} => Some(\"{e['qcodes'][0]}\"),")
    p("            _ => None,")
    p("        }")
    p("    }")
    p("")
    p("    /// The key for a QEMU `QKeyCode` name; every name QEMU's table lists is accepted")
    p("    /// (`\"asterisk\"` and `\"kp_multiply\"` both give [`KeyCode::NumpadStar`]).")
    p("    pub fn from_qcode(name: &str) -> Option<KeyCode> {")
    p("        match name {")
    for e in keys:
        for q in e["qcodes"]:
            p(f"            \"{q}\" => Some(KeyCode::{e['name']}),")
    p("            _ => None,")
    p("        }")
    p("    }")
    p("")
    for s in (1, 2, 3):
        p(f"    /// The set {s} make code (`0xE0xx` for E0-prefixed keys), if the key has one in set {s}.")
        if s in (1, 2):
            p("    ///")
            p("    /// [`KeyCode::Pause`] has none: it sends an E1 sequence (see the encoder).")
        p(f"    pub const fn set{s}_code(self) -> Option<u16> {{")
        p("        match self {")
        for e in keys:
            c = e["sets"][s]
            if c is not None:
                p(f"            KeyCode::{e['name']} => Some({c:#06x}),")
        p("            _ => None,")
        p("        }")
        p("    }")
        p("")
    p("}")
    p("")
    idx = [None] * 256
    for e in keys:
        idx[e["disc"]] = e["name"]
    emit_table(p, "INDEX", "Keys by discriminant.", idx, kind="const")
    # Decode tables.
    t1 = [None] * 128
    t1e = [None] * 128
    t2 = [None] * 256
    t2e = [None] * 128
    t3 = [None] * 256
    for e in keys:
        for s, plain, ext in ((1, t1, t1e), (2, t2, t2e), (3, t3, None)):
            c = e["sets"][s]
            if c is None:
                continue
            if e["name"] in ("Hangul", "Hanja") and s in (1, 2):
                continue  # F1 / F2 have no break code: decoded by hand.
            if c > 0xFF:
                assert ext is not None and c >> 8 == 0xE0 and (c & 0xFF) < 0x80, (e, s)
                assert ext[c & 0x7F] is None, (e["name"], s, ext[c & 0x7F])
                ext[c & 0x7F] = e["name"]
            else:
                lim = 0x80 if s == 1 else 0x100
                assert c < lim, (e, s)
                assert plain[c] is None, (e["name"], s, c, plain[c])
                plain[c] = e["name"]
    for c, name in SET2_DECODE_ALIASES.items():
        assert t2[c] is None
        t2[c] = name
    for c in SET1_E0_FAKE_SHIFTS:
        if c == 0x36:
            assert t1e[c] == "BassBoost"
        else:
            assert t1e[c] is None
    for c in SET2_E0_FAKE_SHIFTS:
        assert t2e[c] is None
    emit_table(p, "SET1", "Set 1 make codes (breaks are `code | 0x80`).", t1, kind="const")
    emit_table(p, "SET1_E0", "Set 1 make codes after `E0`. `E0 36` (BassBoost) doubles as the fake right shift.", t1e, kind="const")
    emit_table(p, "SET2", "Set 2 codes (the break prefix is `F0`).", t2, kind="const")
    emit_table(p, "SET2_E0", "Set 2 codes after `E0`.", t2e, kind="const")
    emit_table(p, "SET3", "Set 3 codes (the break prefix is `F0`).", t3, kind="const")
    return "\n".join(w) + "\n"


_csv_usb_cache = {}


def csv_usb(e):
    if not _csv_usb_cache:
        for r in csv.DictReader(open(CSV, newline="")):
            if r["USB Keycodes"]:
                _csv_usb_cache.setdefault(int(r["Linux Keycode"], 0), []).append(int(r["USB Keycodes"]))
    return _csv_usb_cache.get(e["disc"], [])


def emit_table(p, name, doc, table, kind="static"):
    p(f"/// {doc}")
    p(f"pub(crate) {kind} {name}: [Option<KeyCode>; {len(table)}] = [")
    for i in range(0, len(table), 4):
        cells = []
        for j in range(i, i + 4):
            n = table[j]
            cells.append(f"Some(KeyCode::{n})" if n else "None")
        p(f"    /* {i:#04x} */ " + ", ".join(cells) + ",")
    p("];")
    p("")


def rustfmt(text):
    """Formats like `cargo fmt` would, so the checked-in file stays fmt-clean."""
    import subprocess
    done = subprocess.run(["rustfmt", "--edition", "2021", "--emit", "stdout"], input=text,
                          capture_output=True, text=True, check=True)
    return done.stdout


def main():
    text = rustfmt(generate())
    if "--check" in sys.argv:
        cur = open(OUT).read() if os.path.exists(OUT) else ""
        if cur != text:
            print(f"{OUT} is out of date: run python3 crates/ps2/tools/gen_tables.py", file=sys.stderr)
            sys.exit(1)
        return
    with open(OUT, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
