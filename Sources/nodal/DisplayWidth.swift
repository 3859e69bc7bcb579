/// How many terminal columns text takes, for columns that line up: a CJK ideograph, a Hangul
/// syllable, a fullwidth form or an emoji takes two, a character with combining marks one
/// (Characters are grapheme clusters already). An approximation of Unicode's East Asian Width
/// (UAX #11), which Swift does not expose: enough for run ids and flow names.
extension String {
    var displayWidth: Int {
        reduce(0) { width, character in width + character.displayWidth }
    }
}

extension Character {
    var displayWidth: Int {
        guard let first = unicodeScalars.first else { return 0 }
        if unicodeScalars.contains(where: { $0.properties.isEmojiPresentation }) { return 2 }
        // U+FE0F asks for the emoji form of a character that has a text form as well.
        if unicodeScalars.contains("\u{FE0F}"), first.properties.isEmoji { return 2 }
        switch first.value {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
             0xA000...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60,
             0xFFE0...0xFFE6, 0x20000...0x3FFFD:
            return 2
        default:
            return 1
        }
    }
}
