import NodalJSON
#if os(Linux)
import Glibc

/// Checks, before `dlopen`, that a file's ELF headers describe a shared library this process can
/// load and that every byte they point at is inside the file.
///
/// `dlopen` maps a library's segments as the program headers describe them; a segment that runs
/// past the end of a truncated file is mapped anyway, and the first touch of its missing pages
/// (while the loader applies relocations) kills the process with SIGBUS. Only the headers are
/// read: the file is not mapped and no code of it runs.
enum ELFCheck {
    static let headerSize = 64            // sizeof(Elf64_Ehdr)
    static let programHeaderSize = 56     // sizeof(Elf64_Phdr)
    static let sectionHeaderSize = 64     // sizeof(Elf64_Shdr)

    /// What is wrong with `path` as a shared library for this process, or nil when nothing is.
    static func problem(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return "cannot be opened (\(String(cString: strerror(errno))))" }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return "cannot be read (\(String(cString: strerror(errno))))" }
        let file = File(descriptor: descriptor, size: UInt64(info.st_size))
        return file.problem()
    }

    struct File {
        let descriptor: Int32
        let size: UInt64

        /// `count` bytes at `offset`, or nil if they are not all in the file.
        func read(_ offset: UInt64, _ count: Int) -> [UInt8]? {
            guard count >= 0, offset <= size, UInt64(count) <= size - offset else { return nil }
            var bytes = [UInt8](repeating: 0, count: count)
            var done = 0
            while done < count {
                let got = bytes.withUnsafeMutableBytes { buffer in
                    pread(descriptor, buffer.baseAddress! + done, count - done, off_t(offset) + off_t(done))
                }
                if got < 0 && errno == EINTR { continue }
                guard got > 0 else { return nil }
                done += got
            }
            return bytes
        }

        func problem() -> String? {
            guard let header = read(0, min(Int(size), headerSize)), header.count >= 4,
                  header[0] == 0x7F, header[1] == 0x45, header[2] == 0x4C, header[3] == 0x46 else {
                return "not a shared library (no ELF header)"
            }
            guard header.count == headerSize else {
                return "truncated: the file has \(size) bytes, fewer than an ELF header (\(headerSize))"
            }
            guard header[4] == 2 else {
                return "not a 64-bit ELF file (EI_CLASS is \(header[4]), expected 2, ELFCLASS64)"
            }
            let hostData: UInt8 = 1.littleEndian == 1 ? 1 : 2
            guard header[5] == hostData else {
                return "ELF data encoding is \(header[5] == 1 ? "little" : header[5] == 2 ? "big" : "unknown (\(header[5]))")-endian (EI_DATA), but this machine is \(hostData == 1 ? "little" : "big")-endian"
            }
            // The encoding matches the host's: fields read in native byte order.
            func field<T: FixedWidthInteger>(_ bytes: [UInt8], _ offset: Int, _: T.Type) -> T {
                bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
            }
            let type = field(header, 16, UInt16.self)
            guard type == 3 else {
                return "not a shared library (ELF e_type is \(type)\(type == 2 ? ", an executable" : type == 1 ? ", an object file" : ""); expected 3, ET_DYN)"
            }
            let machine = field(header, 18, UInt16.self)
            if let hostMachine = ELFCheck.hostMachine, machine != hostMachine {
                return "built for another machine (ELF e_machine is \(machine)\(ELFCheck.machineNames[machine].map { ", \($0)" } ?? "")), but this Nodal runs on \(hostMachine) (\(ELFCheck.machineNames[hostMachine] ?? "?"))"
            }

            let phoff = field(header, 32, UInt64.self)
            let shoff = field(header, 40, UInt64.self)
            let phentsize = field(header, 54, UInt16.self)
            let phnum = field(header, 56, UInt16.self)
            let shentsize = field(header, 58, UInt16.self)
            let shnum = field(header, 60, UInt16.self)

            guard phnum > 0 else { return "ELF header has no program headers (e_phnum is 0): nothing to load" }
            guard phnum != 0xFFFF else { return "ELF e_phnum is 0xffff (extended numbering), which the dynamic loader does not support" }
            guard Int(phentsize) == ELFCheck.programHeaderSize else {
                return "ELF e_phentsize is \(phentsize), expected \(ELFCheck.programHeaderSize) (Elf64_Phdr)"
            }
            let tableSize = Int(phnum) * ELFCheck.programHeaderSize
            guard let table = read(phoff, tableSize) else {
                return "truncated: the program header table (e_phoff \(phoff), \(phnum) x \(phentsize) bytes) ends past the end of the file (\(size) bytes)"
            }
            for index in 0..<Int(phnum) {
                let base = index * ELFCheck.programHeaderSize
                let kind = field(table, base, UInt32.self)
                let offset = field(table, base + 8, UInt64.self)
                let fileSize = field(table, base + 32, UInt64.self)
                guard fileSize > 0 else { continue }
                guard offset <= size, fileSize <= size - offset else {
                    let end = offset.addingReportingOverflow(fileSize)
                    return "truncated: program header \(index) (\(ELFCheck.segmentName(kind))) covers bytes \(offset) to \(end.overflow ? "past 2^64" : String(end.partialValue)) (p_offset + p_filesz), past the end of the file (\(size) bytes)"
                }
            }

            if let problem = dynamicProblem(table: table, count: Int(phnum)) { return problem }

            if shoff != 0 {
                guard Int(shentsize) == ELFCheck.sectionHeaderSize else {
                    return "ELF e_shentsize is \(shentsize), expected \(ELFCheck.sectionHeaderSize) (Elf64_Shdr)"
                }
                var count = UInt64(shnum)
                if count == 0 {
                    // Extended numbering: the count is section 0's sh_size.
                    guard let first = read(shoff, ELFCheck.sectionHeaderSize) else {
                        return "truncated: the section header table (e_shoff \(shoff)) starts past the end of the file (\(size) bytes)"
                    }
                    count = max(field(first, 32, UInt64.self), 1)
                }
                let (tableSize, overflow) = count.multipliedReportingOverflow(by: UInt64(ELFCheck.sectionHeaderSize))
                guard !overflow, shoff <= size, tableSize <= size - shoff else {
                    return "truncated: the section header table (e_shoff \(shoff), \(count) x \(shentsize) bytes) ends past the end of the file (\(size) bytes)"
                }
            }
            return nil
        }

        /// The dynamic section, which `dlopen` trusts completely: a zeroed or garbled one (no string
        /// or symbol table, tables that point outside the file) kills the process inside the
        /// dynamic loader (SIGSEGV in `_dl_relocate_object`). Checked: that there is one, that it
        /// ends with DT_NULL, has DT_STRTAB and DT_SYMTAB, and that the tables it names lie in
        /// bytes a PT_LOAD segment maps from the file.
        func dynamicProblem(table: [UInt8], count: Int) -> String? {
            func field<T: FixedWidthInteger>(_ bytes: [UInt8], _ offset: Int, _: T.Type) -> T {
                bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
            }
            var loads: [(address: UInt64, fileSize: UInt64, memorySize: UInt64)] = []
            var dynamic: (offset: UInt64, size: UInt64)?
            for index in 0..<count {
                let base = index * ELFCheck.programHeaderSize
                switch field(table, base, UInt32.self) {
                case 1: loads.append((field(table, base + 16, UInt64.self), field(table, base + 32, UInt64.self), field(table, base + 40, UInt64.self)))
                case 2: dynamic = (field(table, base + 8, UInt64.self), field(table, base + 32, UInt64.self))
                default: continue
                }
            }
            guard let dynamic, dynamic.size >= 16 else {
                return "damaged: no dynamic section (PT_DYNAMIC), so the dynamic loader could not link it"
            }
            // Offsets and sizes were checked against the file above.
            guard let entries = read(dynamic.offset, Int(min(dynamic.size, 1 << 20))) else {
                return "truncated: the dynamic section ends past the end of the file (\(size) bytes)"
            }
            var values: [Int64: UInt64] = [:]
            var terminated = false
            for entry in stride(from: 0, to: entries.count - 15, by: 16) {
                let tag = field(entries, entry, Int64.self)
                if tag == 0 {
                    terminated = true
                    break
                }
                if values[tag] == nil { values[tag] = field(entries, entry + 8, UInt64.self) }
            }
            guard terminated else { return "damaged: the dynamic section has no DT_NULL entry to end it" }
            func mapped(_ address: UInt64, _ length: UInt64) -> Bool {
                loads.contains { load in
                    address >= load.address && address - load.address <= load.fileSize && length <= load.fileSize - (address - load.address)
                }
            }
            for (tag, name) in [(Int64(5), "DT_STRTAB"), (6, "DT_SYMTAB")] where values[tag] == nil {
                return "damaged: the dynamic section has no \(name)"
            }
            // Tables with their sizes, then tables whose size the loader works out itself.
            let sized: [(Int64, Int64, String)] = [
                (5, 10, "DT_STRTAB"), (7, 8, "DT_RELA"), (17, 18, "DT_REL"), (23, 2, "DT_JMPREL"),
                (25, 27, "DT_INIT_ARRAY"), (26, 28, "DT_FINI_ARRAY"),
            ]
            for (tag, sizeTag, name) in sized {
                guard let address = values[tag] else { continue }
                let length = values[sizeTag] ?? 0
                guard mapped(address, length) else {
                    return "damaged: \(name) (address 0x\(String(address, radix: 16)), \(length) bytes) is not in the bytes its segments load from the file"
                }
            }
            let placed: [(Int64, String)] = [(6, "DT_SYMTAB"), (4, "DT_HASH"), (0x6FFF_FEF5, "DT_GNU_HASH"), (0x6FFF_FFF0, "DT_VERSYM"), (0x6FFF_FFFE, "DT_VERNEED"), (0x6FFF_FFFC, "DT_VERDEF")]
            for (tag, name) in placed {
                guard let address = values[tag] else { continue }
                guard mapped(address, 1) else {
                    return "damaged: \(name) (address 0x\(String(address, radix: 16))) is not in the bytes its segments load from the file"
                }
            }
            return nil
        }
    }

    /// The ELF e_machine of the processor this process runs on, when known.
    static let hostMachine: UInt16? = {
        #if arch(x86_64)
        return 62
        #elseif arch(arm64)
        return 183
        #elseif arch(riscv64)
        return 243
        #elseif arch(powerpc64le) || arch(powerpc64)
        return 21
        #elseif arch(s390x)
        return 22
        #else
        return nil
        #endif
    }()

    static let machineNames: [UInt16: String] = [
        3: "x86", 8: "MIPS", 20: "PowerPC", 21: "PowerPC 64", 22: "s390", 40: "ARM", 62: "x86-64",
        183: "AArch64", 243: "RISC-V", 258: "LoongArch",
    ]

    static func segmentName(_ type: UInt32) -> String {
        switch type {
        case 1: "PT_LOAD"
        case 2: "PT_DYNAMIC"
        case 3: "PT_INTERP"
        case 4: "PT_NOTE"
        case 6: "PT_PHDR"
        case 7: "PT_TLS"
        case 0x6474_E550: "PT_GNU_EH_FRAME"
        case 0x6474_E551: "PT_GNU_STACK"
        case 0x6474_E552: "PT_GNU_RELRO"
        case 0x6474_E553: "PT_GNU_PROPERTY"
        default: "type 0x" + String(type, radix: 16)
        }
    }
}
#endif
