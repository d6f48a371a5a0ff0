//! Dead-key and Compose tables: pure functions from an accent (or two characters) to the
//! character they make.

/// The accent of a dead key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum Accent {
    /// Grave (`à`).
    Grave = 0,
    /// Acute (`é`).
    Acute = 1,
    /// Circumflex (`ê`).
    Circumflex = 2,
    /// Tilde (`ñ`).
    Tilde = 3,
    /// Diaeresis or umlaut (`ü`).
    Diaeresis = 4,
    /// Cedilla (`ç`).
    Cedilla = 5,
    /// Ring above (`å`).
    Ring = 6,
    /// Caron (`š`).
    Caron = 7,
    /// Macron (`ā`).
    Macron = 8,
    /// Breve (`ğ`).
    Breve = 9,
    /// Ogonek (`ą`).
    Ogonek = 10,
    /// Double acute (`ő`).
    DoubleAcute = 11,
    /// Dot above (`ż`).
    DotAbove = 12,
}

impl Accent {
    /// Every accent, in discriminant order.
    pub const ALL: [Accent; 13] = [
        Accent::Grave,
        Accent::Acute,
        Accent::Circumflex,
        Accent::Tilde,
        Accent::Diaeresis,
        Accent::Cedilla,
        Accent::Ring,
        Accent::Caron,
        Accent::Macron,
        Accent::Breve,
        Accent::Ogonek,
        Accent::DoubleAcute,
        Accent::DotAbove,
    ];

    /// The accent whose discriminant is `index`.
    pub const fn from_index(index: u8) -> Option<Accent> {
        if (index as usize) < Accent::ALL.len() {
            Some(Accent::ALL[index as usize])
        } else {
            None
        }
    }

    /// The accent's usual spacing character (`´` for acute, `^` for circumflex, ...).
    pub const fn spacing(self) -> char {
        match self {
            Accent::Grave => '`',
            Accent::Acute => '´',
            Accent::Circumflex => '^',
            Accent::Tilde => '~',
            Accent::Diaeresis => '¨',
            Accent::Cedilla => '¸',
            Accent::Ring => '°',
            Accent::Caron => 'ˇ',
            Accent::Macron => '¯',
            Accent::Breve => '˘',
            Accent::Ogonek => '˛',
            Accent::DoubleAcute => '˝',
            Accent::DotAbove => '˙',
        }
    }

    /// The accent a character stands for as the first (or second) key of a Compose sequence:
    /// `'` and `´` acute, `` ` `` grave, `^` circumflex, `~` tilde, `"` and `¨` diaeresis,
    /// `,` and `¸` cedilla, `o` and `*` ring, `c` caron, `_` and `¯` macron, `U` breve,
    /// `;` ogonek, `=` double acute, `.` dot above (the X11 Compose conventions).
    pub const fn from_compose_char(c: char) -> Option<Accent> {
        Some(match c {
            '\'' | '´' => Accent::Acute,
            '`' => Accent::Grave,
            '^' => Accent::Circumflex,
            '~' => Accent::Tilde,
            '"' | '¨' => Accent::Diaeresis,
            ',' | '¸' => Accent::Cedilla,
            'o' | '*' | '°' => Accent::Ring,
            'c' | 'ˇ' => Accent::Caron,
            '_' | '¯' => Accent::Macron,
            'U' | '˘' => Accent::Breve,
            ';' | '˛' => Accent::Ogonek,
            '=' | '˝' => Accent::DoubleAcute,
            '.' | '˙' => Accent::DotAbove,
            _ => return None,
        })
    }
}

/// The letter `accent` on `base` makes, if Latin-1 or Latin Extended-A has it.
///
/// # Examples
///
/// ```
/// use irqkit_ps2::layout::{compose, Accent};
/// assert_eq!(compose(Accent::Circumflex, 'e'), Some('ê'));
/// assert_eq!(compose(Accent::Diaeresis, 'Y'), Some('Ÿ'));
/// assert_eq!(compose(Accent::Ogonek, 'x'), None);
/// ```
pub const fn compose(accent: Accent, base: char) -> Option<char> {
    Some(match accent {
        Accent::Grave => match base {
            'A' => 'À',
            'E' => 'È',
            'I' => 'Ì',
            'O' => 'Ò',
            'U' => 'Ù',
            'a' => 'à',
            'e' => 'è',
            'i' => 'ì',
            'o' => 'ò',
            'u' => 'ù',
            _ => return None,
        },
        Accent::Acute => match base {
            'A' => 'Á',
            'C' => 'Ć',
            'E' => 'É',
            'I' => 'Í',
            'L' => 'Ĺ',
            'N' => 'Ń',
            'O' => 'Ó',
            'R' => 'Ŕ',
            'S' => 'Ś',
            'U' => 'Ú',
            'Y' => 'Ý',
            'Z' => 'Ź',
            'a' => 'á',
            'c' => 'ć',
            'e' => 'é',
            'i' => 'í',
            'l' => 'ĺ',
            'n' => 'ń',
            'o' => 'ó',
            'r' => 'ŕ',
            's' => 'ś',
            'u' => 'ú',
            'y' => 'ý',
            'z' => 'ź',
            _ => return None,
        },
        Accent::Circumflex => match base {
            'A' => 'Â',
            'C' => 'Ĉ',
            'E' => 'Ê',
            'G' => 'Ĝ',
            'H' => 'Ĥ',
            'I' => 'Î',
            'J' => 'Ĵ',
            'O' => 'Ô',
            'S' => 'Ŝ',
            'U' => 'Û',
            'W' => 'Ŵ',
            'Y' => 'Ŷ',
            'a' => 'â',
            'c' => 'ĉ',
            'e' => 'ê',
            'g' => 'ĝ',
            'h' => 'ĥ',
            'i' => 'î',
            'j' => 'ĵ',
            'o' => 'ô',
            's' => 'ŝ',
            'u' => 'û',
            'w' => 'ŵ',
            'y' => 'ŷ',
            _ => return None,
        },
        Accent::Tilde => match base {
            'A' => 'Ã',
            'I' => 'Ĩ',
            'N' => 'Ñ',
            'O' => 'Õ',
            'U' => 'Ũ',
            'a' => 'ã',
            'i' => 'ĩ',
            'n' => 'ñ',
            'o' => 'õ',
            'u' => 'ũ',
            _ => return None,
        },
        Accent::Diaeresis => match base {
            'A' => 'Ä',
            'E' => 'Ë',
            'I' => 'Ï',
            'O' => 'Ö',
            'U' => 'Ü',
            'Y' => 'Ÿ',
            'a' => 'ä',
            'e' => 'ë',
            'i' => 'ï',
            'o' => 'ö',
            'u' => 'ü',
            'y' => 'ÿ',
            _ => return None,
        },
        Accent::Cedilla => match base {
            'C' => 'Ç',
            'G' => 'Ģ',
            'K' => 'Ķ',
            'L' => 'Ļ',
            'N' => 'Ņ',
            'R' => 'Ŗ',
            'S' => 'Ş',
            'T' => 'Ţ',
            'c' => 'ç',
            'g' => 'ģ',
            'k' => 'ķ',
            'l' => 'ļ',
            'n' => 'ņ',
            'r' => 'ŗ',
            's' => 'ş',
            't' => 'ţ',
            _ => return None,
        },
        Accent::Ring => match base {
            'A' => 'Å',
            'U' => 'Ů',
            'a' => 'å',
            'u' => 'ů',
            _ => return None,
        },
        Accent::Caron => match base {
            'C' => 'Č',
            'D' => 'Ď',
            'E' => 'Ě',
            'L' => 'Ľ',
            'N' => 'Ň',
            'R' => 'Ř',
            'S' => 'Š',
            'T' => 'Ť',
            'Z' => 'Ž',
            'c' => 'č',
            'd' => 'ď',
            'e' => 'ě',
            'l' => 'ľ',
            'n' => 'ň',
            'r' => 'ř',
            's' => 'š',
            't' => 'ť',
            'z' => 'ž',
            _ => return None,
        },
        Accent::Macron => match base {
            'A' => 'Ā',
            'E' => 'Ē',
            'I' => 'Ī',
            'O' => 'Ō',
            'U' => 'Ū',
            'a' => 'ā',
            'e' => 'ē',
            'i' => 'ī',
            'o' => 'ō',
            'u' => 'ū',
            _ => return None,
        },
        Accent::Breve => match base {
            'A' => 'Ă',
            'E' => 'Ĕ',
            'G' => 'Ğ',
            'I' => 'Ĭ',
            'O' => 'Ŏ',
            'U' => 'Ŭ',
            'a' => 'ă',
            'e' => 'ĕ',
            'g' => 'ğ',
            'i' => 'ĭ',
            'o' => 'ŏ',
            'u' => 'ŭ',
            _ => return None,
        },
        Accent::Ogonek => match base {
            'A' => 'Ą',
            'E' => 'Ę',
            'I' => 'Į',
            'U' => 'Ų',
            'a' => 'ą',
            'e' => 'ę',
            'i' => 'į',
            'u' => 'ų',
            _ => return None,
        },
        Accent::DoubleAcute => match base {
            'O' => 'Ő',
            'U' => 'Ű',
            'o' => 'ő',
            'u' => 'ű',
            _ => return None,
        },
        Accent::DotAbove => match base {
            'C' => 'Ċ',
            'E' => 'Ė',
            'G' => 'Ġ',
            'I' => 'İ',
            'Z' => 'Ż',
            'c' => 'ċ',
            'e' => 'ė',
            'g' => 'ġ',
            'z' => 'ż',
            _ => return None,
        },
    })
}

/// The character a Compose-key sequence of `first` then `second` makes, if any.
///
/// Tries the symbol table (both orders), then `first` as an accent on `second` (see
/// [`Accent::from_compose_char`]), then `second` as an accent on `first`.
pub const fn compose_pair(first: char, second: char) -> Option<char> {
    if let Some(c) = symbol(first, second) {
        return Some(c);
    }
    if let Some(c) = symbol(second, first) {
        return Some(c);
    }
    if let Some(accent) = Accent::from_compose_char(first) {
        if let Some(c) = compose(accent, second) {
            return Some(c);
        }
    }
    if let Some(accent) = Accent::from_compose_char(second) {
        if let Some(c) = compose(accent, first) {
            return Some(c);
        }
    }
    None
}

/// Compose sequences for letters without a decomposition and for symbols (one order; the
/// caller tries both).
const fn symbol(first: char, second: char) -> Option<char> {
    Some(match (first, second) {
        ('s', 's') => 'ß',
        ('a', 'e') => 'æ',
        ('A', 'E') => 'Æ',
        ('o', 'e') => 'œ',
        ('O', 'E') => 'Œ',
        ('/', 'o') => 'ø',
        ('/', 'O') => 'Ø',
        ('/', 'd') | ('-', 'd') => 'đ',
        ('/', 'D') | ('-', 'D') => 'Đ',
        ('/', 'l') => 'ł',
        ('/', 'L') => 'Ł',
        ('/', 'h') => 'ħ',
        ('/', 'H') => 'Ħ',
        ('t', 'h') => 'þ',
        ('T', 'H') => 'Þ',
        ('d', 'h') => 'ð',
        ('D', 'H') => 'Ð',
        ('n', 'g') => 'ŋ',
        ('N', 'G') => 'Ŋ',
        ('i', '.') => 'ı',
        ('!', '!') => '¡',
        ('?', '?') => '¿',
        ('<', '<') => '«',
        ('>', '>') => '»',
        ('o', 'c') | ('O', 'C') => '©',
        ('o', 'r') | ('O', 'R') => '®',
        ('t', 'm') | ('T', 'M') => '™',
        ('+', '-') => '±',
        (':', '-') => '÷',
        ('x', 'x') => '×',
        ('1', '2') => '½',
        ('1', '4') => '¼',
        ('3', '4') => '¾',
        ('^', '1') => '¹',
        ('^', '2') => '²',
        ('^', '3') => '³',
        ('=', 'e') | ('=', 'E') | ('=', 'C') => '€',
        ('-', 'l') | ('-', 'L') => '£',
        ('=', 'y') | ('=', 'Y') => '¥',
        ('/', 'c') | ('|', 'c') => '¢',
        ('o', 'x') | ('O', 'X') => '¤',
        ('s', 'o') | ('S', 'O') => '§',
        ('p', '!') | ('P', '!') => '¶',
        ('o', 'o') => '°',
        ('m', 'u') => 'µ',
        ('.', '-') | ('.', '^') => '·',
        ('-', ',') => '¬',
        ('!', '^') => '¦',
        (' ', ' ') => '\u{A0}',
        ('+', '+') => '#',
        ('a', 'a') => '@',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every composed character comes out of exactly one (accent, base) pair, and it is a
    /// Latin-1 or Latin Extended-A letter.
    #[test]
    fn table_covers_161_distinct_letters() {
        extern crate std;
        use std::vec::Vec;
        let mut out = Vec::new();
        for accent in Accent::ALL {
            for base in ('A'..='Z').chain('a'..='z') {
                if let Some(c) = compose(accent, base) {
                    assert!(
                        ('\u{C0}'..='\u{17F}').contains(&c),
                        "{accent:?} {base} -> {c}"
                    );
                    out.push(c);
                }
            }
        }
        let n = out.len();
        out.sort_unstable();
        out.dedup();
        assert_eq!(out.len(), n, "a letter is made twice");
        assert_eq!(n, 161);
    }

    #[test]
    fn accents_index_and_compose_chars() {
        for (i, accent) in Accent::ALL.into_iter().enumerate() {
            assert_eq!(accent as usize, i);
            assert_eq!(Accent::from_index(i as u8), Some(accent));
            assert_eq!(Accent::from_compose_char(accent.spacing()), Some(accent));
        }
        assert_eq!(Accent::from_index(13), None);
        assert_eq!(Accent::from_compose_char('q'), None);
    }

    #[test]
    fn compose_pairs() {
        assert_eq!(compose_pair('"', 'u'), Some('ü'));
        assert_eq!(compose_pair('u', '"'), Some('ü'));
        assert_eq!(compose_pair(',', 'c'), Some('ç'));
        assert_eq!(compose_pair('c', 's'), Some('š'));
        assert_eq!(compose_pair('o', 'a'), Some('å'));
        assert_eq!(compose_pair('o', 'c'), Some('©'));
        assert_eq!(compose_pair('c', 'o'), Some('©'));
        assert_eq!(compose_pair('e', '='), Some('€'));
        assert_eq!(compose_pair('2', '1'), Some('½'));
        assert_eq!(compose_pair('/', 'L'), Some('Ł'));
        assert_eq!(compose_pair('U', 'g'), Some('ğ'));
        assert_eq!(compose_pair('.', 'z'), Some('ż'));
        assert_eq!(compose_pair('=', 'o'), Some('ő'));
        assert_eq!(compose_pair(';', 'e'), Some('ę'));
        assert_eq!(compose_pair('_', 'e'), Some('ē'));
        assert_eq!(compose_pair('x', 'y'), None);
    }
}
