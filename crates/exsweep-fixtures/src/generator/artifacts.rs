//! Binary artifacts of the post-exploitation stage, small and inert but laid out like the real
//! formats: LSASS minidumps (procdump `-ma` and `comsvcs.dll MiniDump`), an ASP.NET compiled page
//! (`App_Web_<8>.dll`, a .NET PE with the strings a compiled web shell keeps), and a recon CAB
//! (`MSCF` holding `ip.txt`, `arp.txt`, `system`, `security`).

use super::fmt::civil;
use super::rng::Rng;

/// A little-endian byte writer with back-patching.
#[derive(Default)]
pub(crate) struct Buf(pub Vec<u8>);

impl Buf {
    pub(crate) fn pos(&self) -> u32 {
        self.0.len() as u32
    }
    pub(crate) fn u8(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }
    pub(crate) fn u16(&mut self, v: u16) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub(crate) fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub(crate) fn u64(&mut self, v: u64) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub(crate) fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.0.extend_from_slice(b);
        self
    }
    pub(crate) fn zeros(&mut self, n: usize) -> &mut Self {
        self.0.resize(self.0.len() + n, 0);
        self
    }
    pub(crate) fn align(&mut self, n: usize) -> &mut Self {
        while !self.0.len().is_multiple_of(n) {
            self.0.push(0);
        }
        self
    }
    pub(crate) fn patch_u32(&mut self, at: u32, v: u32) {
        self.0[at as usize..at as usize + 4].copy_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn patch_u16(&mut self, at: u32, v: u16) {
        self.0[at as usize..at as usize + 2].copy_from_slice(&v.to_le_bytes());
    }
}

/// UTF-16LE bytes of `s` (no terminator).
pub(crate) fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

// ---------------------------------------------------------------------------------------------
// MINIDUMP

/// Which tool wrote an LSASS dump.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DumpTool {
    /// `procdump64.exe -ma lsass.exe`: full memory plus handle, thread and memory-info data.
    Procdump,
    /// `rundll32 comsvcs.dll, MiniDump <pid> <file> full`: `MiniDumpWithFullMemory` only.
    Comsvcs,
}

const STREAM_THREAD_LIST: u32 = 3;
const STREAM_MODULE_LIST: u32 = 4;
const STREAM_SYSTEM_INFO: u32 = 7;
const STREAM_MEMORY64_LIST: u32 = 9;
const STREAM_UNLOADED_MODULE_LIST: u32 = 14;
const STREAM_MISC_INFO: u32 = 15;
const STREAM_MEMORY_INFO_LIST: u32 = 16;
const STREAM_THREAD_INFO_LIST: u32 = 17;

/// The modules of lsass.exe a dump lists (path, size of image), lsass.exe first.
const LSASS_MODULES: &[(&str, u32)] = &[
    (r"C:\Windows\System32\lsass.exe", 0x0001_3000),
    (r"C:\Windows\SYSTEM32\ntdll.dll", 0x001d_1000),
    (r"C:\Windows\System32\KERNEL32.DLL", 0x000b_2000),
    (r"C:\Windows\System32\KERNELBASE.dll", 0x0026_9000),
    (r"C:\Windows\system32\lsasrv.dll", 0x0018_b000),
    (r"C:\Windows\SYSTEM32\SAMSRV.dll", 0x000d_e000),
    (r"C:\Windows\system32\msv1_0.dll", 0x0008_c000),
    (r"C:\Windows\system32\kerberos.dll", 0x000f_c000),
    (r"C:\Windows\system32\wdigest.dll", 0x0004_a000),
    (r"C:\Windows\system32\tspkg.dll", 0x0001_a000),
    (r"C:\Windows\system32\cryptdll.dll", 0x0001_5000),
    (r"C:\Windows\system32\negoexts.dll", 0x0003_5000),
    (r"C:\Windows\System32\netlogon.dll", 0x0010_f000),
];

/// What a dump needs to know about the server.
pub(crate) struct DumpHost<'a> {
    /// Windows build (14393 for Server 2016, 17763 for 2019) and its update revision.
    pub os_build: u32,
    pub os_revision: u32,
    pub pid: u32,
    /// Boot time, unix seconds (the process creation time).
    pub boot: i64,
    /// Names that live in lsass memory (`CONTOSO`, `Administrator`, the host): inert markers.
    pub names: &'a [&'a str],
}

/// A small LSASS MINIDUMP: header (`MDMP`, version 0xA793), stream directory, system info, misc
/// info (pid), thread list, module list with CodeView records, and a Memory64 list of a few
/// pages (the thread stacks and some heap, deterministic filler with UTF-16 names in it).
pub(crate) fn minidump(rng: &mut Rng, t: i64, tool: DumpTool, host: &DumpHost) -> Vec<u8> {
    let mut streams: Vec<u32> = vec![STREAM_THREAD_LIST, STREAM_MODULE_LIST, STREAM_SYSTEM_INFO, STREAM_MISC_INFO];
    if tool == DumpTool::Procdump {
        streams.extend([STREAM_THREAD_INFO_LIST, STREAM_UNLOADED_MODULE_LIST, STREAM_MEMORY_INFO_LIST]);
    }
    streams.push(STREAM_MEMORY64_LIST);
    let unused = 3; // MiniDumpWriteDump reserves a few UnusedStream slots.
    let flags: u64 = match tool {
        // MiniDumpWithFullMemory | WithHandleData | WithUnloadedModules | WithFullMemoryInfo | WithThreadInfo
        DumpTool::Procdump => 0x1826,
        DumpTool::Comsvcs => 0x2,
    };
    let mut b = Buf::default();
    b.bytes(b"MDMP").u16(0xA793).u16(0);
    b.u32((streams.len() + unused) as u32).u32(32).u32(0).u32((t / 1000) as u32).u64(flags);
    let dir = b.pos();
    b.zeros(12 * (streams.len() + unused));
    let mut entries: Vec<(u32, u32, u32)> = Vec::new();

    // Address space: lsass.exe image, the DLLs, four thread stacks, some heap.
    let image_base = 0x7ff7_0000_0000u64 | (rng.range(0x1000, 0xfff0) << 16);
    let mut dll_base = 0x7ffd_0000_0000u64 | (rng.range(0x1000, 0x8000) << 16);
    let mut bases = Vec::new();
    for (i, (_, size)) in LSASS_MODULES.iter().enumerate() {
        if i == 0 {
            bases.push(image_base);
        } else {
            bases.push(dll_base);
            dll_base += (u64::from(*size) + 0xffff) & !0xffff;
        }
    }
    let threads: Vec<(u32, u64)> =
        (0..4).map(|k| ((rng.range(600, 9000) as u32) & !3, 0x0000_00a0_0000_0000 + k * 0x10_0000 + 0xf000)).collect();
    let heap_pages = 2 + rng.below(3) as usize;
    let mut ranges: Vec<(u64, Vec<u8>)> = Vec::new();
    for &(_, stack) in &threads {
        ranges.push((stack, page(rng, &[])));
    }
    let heap = 0x0000_01c0_0000_0000u64 | (rng.range(0x10, 0xff) << 24);
    for k in 0..heap_pages {
        ranges.push((heap + k as u64 * 0x1000, page(rng, host.names)));
    }

    // SystemInfo, with the CSD version string after it.
    let at = b.pos();
    b.u16(9).u16(6).u16(0x5507).u8(4).u8(3); // AMD64, family 6, 4 CPUs, server
    b.u32(10).u32(0).u32(host.os_build).u32(2);
    let csd_rva_at = b.pos();
    b.u32(0).u16(0x0110).u16(0);
    b.bytes(b"GenuineIntel").u32(0x0005_0657).u32(0xbfeb_fbff).u32(0);
    entries.push((STREAM_SYSTEM_INFO, b.pos() - at, at));
    b.align(4);
    let csd = b.pos();
    b.patch_u32(csd_rva_at, csd);
    b.u32(0).u16(0);
    b.align(4);

    // MiscInfo: pid and process times.
    let at = b.pos();
    b.u32(24)
        .u32(0x3)
        .u32(host.pid)
        .u32(host.boot as u32)
        .u32(rng.range(20, 400) as u32)
        .u32(rng.range(30, 900) as u32);
    entries.push((STREAM_MISC_INFO, 24, at));

    // Thread contexts (AMD64 CONTEXT, 0x4d0 bytes), then the thread list pointing at them.
    let mut contexts = Vec::new();
    for &(_, stack) in &threads {
        b.align(16);
        let at = b.pos();
        let mut ctx = vec![0u8; 0x4d0];
        ctx[0x30..0x34].copy_from_slice(&0x0010_001fu32.to_le_bytes()); // ContextFlags
        ctx[0x98..0xa0].copy_from_slice(&(stack + 0xe40).to_le_bytes()); // Rsp
        let rip = bases[1] + 0x9_c000 + rng.below(0x1000); // in ntdll (NtWaitForSingleObject and friends)
        ctx[0xf8..0x100].copy_from_slice(&rip.to_le_bytes());
        b.bytes(&ctx);
        contexts.push(at);
    }
    // Stack data is in the Memory64 list; its RVAs are patched once that is laid out.
    let at = b.pos();
    b.u32(threads.len() as u32);
    let mut stack_rva_at = Vec::new();
    for (k, &(tid, stack)) in threads.iter().enumerate() {
        b.u32(tid).u32(0).u32(0x20).u32(if k == 0 { 9 } else { 8 }).u64(0x0000_00a0_0040_0000 + k as u64 * 0x2000);
        b.u64(stack).u32(0x1000);
        stack_rva_at.push(b.pos());
        b.u32(0);
        b.u32(0x4d0).u32(contexts[k]);
    }
    entries.push((STREAM_THREAD_LIST, b.pos() - at, at));

    // Module names (MINIDUMP_STRING, UTF-16) and CodeView records, then the module list.
    let mut names = Vec::new();
    let mut cv = Vec::new();
    for (path, _) in LSASS_MODULES {
        b.align(4);
        names.push(b.pos());
        let w = utf16(path);
        b.u32(w.len() as u32).bytes(&w).u16(0);
        b.align(4);
        let at = b.pos();
        let file = path.rsplit('\\').next().unwrap_or(path);
        let pdb = format!("{}.pdb", file.rsplit_once('.').map_or(file, |(s, _)| s).to_ascii_lowercase());
        b.bytes(b"RSDS").bytes(&rng.guid()).u32(1).bytes(pdb.as_bytes()).u8(0);
        cv.push((at, b.pos() - at));
    }
    b.align(4);
    let at = b.pos();
    b.u32(LSASS_MODULES.len() as u32);
    for (i, (_, size)) in LSASS_MODULES.iter().enumerate() {
        let dll = i > 0;
        b.u64(bases[i])
            .u32(*size)
            .u32(rng.next_u64() as u32 & 0x00ff_ffff)
            .u32(0x5c00_0000 + rng.below(0x0200_0000) as u32);
        b.u32(names[i]);
        // VS_FIXEDFILEINFO
        let ms = 10 << 16;
        let ls = (host.os_build << 16) | host.os_revision;
        b.u32(0xfeef_04bd).u32(0x0001_0000).u32(ms).u32(ls).u32(ms).u32(ls).u32(0x3f).u32(0);
        b.u32(0x0004_0004).u32(if dll { 2 } else { 1 }).u32(0).u32(0).u32(0);
        b.u32(cv[i].1).u32(cv[i].0).u32(0).u32(0).u64(0).u64(0);
    }
    entries.push((STREAM_MODULE_LIST, b.pos() - at, at));

    if tool == DumpTool::Procdump {
        let at = b.pos();
        b.u32(12).u32(64).u32(threads.len() as u32);
        let create = (host.boot + 11_644_473_600) as u64 * 10_000_000;
        for &(tid, _) in &threads {
            b.u32(tid).u32(0).u32(0).u32(0x103).u64(create + rng.below(600_000_000)).u64(0);
            b.u64(rng.below(50_000_000)).u64(rng.below(20_000_000)).u64(bases[1] + 0x7_3e50).u64(0xf);
        }
        entries.push((STREAM_THREAD_INFO_LIST, b.pos() - at, at));
        let at = b.pos();
        b.u32(12).u32(24).u32(0);
        entries.push((STREAM_UNLOADED_MODULE_LIST, 12, at));
        b.align(8);
        let at = b.pos();
        b.u32(16).u32(48).u64(ranges.len() as u64);
        for (base, data) in &ranges {
            b.u64(*base).u64(*base & !0xffff).u32(0x04).u32(0).u64(data.len() as u64);
            b.u32(0x1000).u32(0x04).u32(0x20000).u32(0); // MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE
        }
        entries.push((STREAM_MEMORY_INFO_LIST, b.pos() - at, at));
    }

    // Memory64 list: descriptors, then all the memory at BaseRva.
    b.align(8);
    let at = b.pos();
    b.u64(ranges.len() as u64);
    let base_rva_at = b.pos();
    b.u64(0);
    for (base, data) in &ranges {
        b.u64(*base).u64(data.len() as u64);
    }
    entries.push((STREAM_MEMORY64_LIST, b.pos() - at, at));
    b.align(16);
    let base_rva = b.pos();
    b.0[base_rva_at as usize..base_rva_at as usize + 8].copy_from_slice(&u64::from(base_rva).to_le_bytes());
    for (k, (_, data)) in ranges.iter().enumerate() {
        if k < stack_rva_at.len() {
            let p = b.pos();
            b.patch_u32(stack_rva_at[k], p);
        }
        b.bytes(data);
    }

    // The directory, in the order of `streams`, then the unused slots (all zero).
    for (k, ty) in streams.iter().enumerate() {
        if let Some(&(_, size, rva)) = entries.iter().find(|e| e.0 == *ty) {
            let p = dir + 12 * k as u32;
            b.patch_u32(p, *ty);
            b.patch_u32(p + 4, size);
            b.patch_u32(p + 8, rva);
        }
    }
    b.0
}

/// One 4 KB page of "memory": pseudo-random words, with `names` in UTF-16 here and there.
fn page(rng: &mut Rng, names: &[&str]) -> Vec<u8> {
    let mut p = Vec::with_capacity(4096);
    while p.len() < 4096 {
        if !names.is_empty() && rng.chance(0.02) {
            let w = utf16(names[rng.below(names.len() as u64) as usize]);
            p.extend_from_slice(&w);
            p.extend_from_slice(&[0, 0]);
        } else if rng.chance(0.3) {
            p.extend_from_slice(&[0u8; 8]);
        } else {
            p.extend_from_slice(&rng.next_u64().to_le_bytes());
        }
    }
    p.truncate(4096);
    p
}

// ---------------------------------------------------------------------------------------------
// Compiled ASP.NET page (App_Web_<8>.dll)

/// What the compiled page keeps of its source.
pub(crate) struct CompiledPage<'a> {
    /// `App_Web_xxxxxxxx` (without `.dll`).
    pub assembly: &'a str,
    /// `~/aspnet_client/system_web/AbCdEfGh.aspx`.
    pub virtual_path: &'a str,
    /// The page's literal text blocks, in order (become user strings in `#US`).
    pub literals: &'a [&'a str],
    /// String constants of the code (Request keys, "unsafe").
    pub constants: &'a [&'a str],
    /// Link time, unix seconds.
    pub time: i64,
}

/// One `#US` heap entry: compressed length (bytes + terminal byte), UTF-16LE, terminal byte.
fn us_entry(s: &str) -> Vec<u8> {
    let units: Vec<u16> = s.encode_utf16().collect();
    let special = units.iter().any(|&u| u > 0xff || matches!(u as u8, 0x01..=0x08 | 0x0e..=0x1f | 0x27 | 0x2d | 0x7f));
    let len = units.len() * 2 + 1;
    let mut out = Vec::with_capacity(len + 4);
    match len {
        0..=0x7f => out.push(len as u8),
        0x80..=0x3fff => out.extend_from_slice(&[0x80 | (len >> 8) as u8, len as u8]),
        _ => out.extend_from_slice(&[0xc0 | (len >> 24) as u8, (len >> 16) as u8, (len >> 8) as u8, len as u8]),
    }
    for u in units {
        out.extend_from_slice(&u.to_le_bytes());
    }
    out.push(u8::from(special));
    out
}

/// The ASP.NET class name of a page (`~/aspnet_client/Abc.aspx` -> `aspnet_client_abc_aspx`).
fn page_class(virtual_path: &str) -> String {
    virtual_path
        .trim_start_matches("~/")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
        .collect()
}

/// A compiled JScript page as `App_Web_<8>.dll`: an i386 .NET DLL (DOS stub, PE32 header,
/// `.text` with the CLI header and the metadata root `BSJB` with `#~`, `#Strings`, `#US`,
/// `#GUID`, `#Blob`; `.rsrc` with the version info; `.reloc`). No IL worth the name: the method
/// bodies are `ret`s. Between 6 and 40 KB like the real ones.
pub(crate) fn compiled_page(rng: &mut Rng, p: &CompiledPage) -> Vec<u8> {
    let class = page_class(p.virtual_path);
    let dll = format!("{}.dll", p.assembly);

    // Metadata heaps.
    let mut strings = vec![0u8];
    for s in [
        "<Module>",
        &dll,
        p.assembly,
        "ASP",
        &class,
        &format!("FastObjectFactory_{}", p.assembly.to_ascii_lowercase()),
        "mscorlib",
        "System",
        "Object",
        "System.Web",
        "System.Web.UI",
        "Page",
        "IHttpHandler",
        "IRequiresSessionState",
        "Microsoft.JScript",
        "Microsoft.JScript.Vsa",
        "VsaEngine",
        "Eval",
        "JScriptEvaluate",
        "GlobalScope",
        "Page_Load",
        "get_Request",
        "HttpRequest",
        "get_Item",
        "HtmlTextWriter",
        "Write",
        "__Render__control1",
        "__BuildControlTree",
        "FrameworkInitialize",
        "GetTypeHashCode",
        "ProcessRequest",
        "HttpContext",
        "set_AppRelativeVirtualPath",
        "__initialized",
        "__fileDependencies",
        "GetWrappedFileDependencies",
        "SetRenderMethodDelegate",
        "RenderMethod",
        "Control",
        "Create_ASP_",
        ".ctor",
        ".cctor",
        "System.Runtime.CompilerServices",
        "CompilationRelaxationsAttribute",
        "RuntimeCompatibilityAttribute",
        "CompilerGlobalScopeAttribute",
        "DebuggerNonUserCodeAttribute",
        "System.Diagnostics",
    ] {
        strings.extend_from_slice(s.as_bytes());
        strings.push(0);
    }
    let mut us = vec![0u8];
    us.extend(us_entry(p.virtual_path));
    for l in p.literals {
        us.extend(us_entry(l));
    }
    for c in p.constants {
        us.extend(us_entry(c));
    }
    for s in [
        "/aspnet_client/",
        "Microsoft.JScript.Vsa.VsaEngine",
        "Page_Load",
        &format!("~/{}", p.virtual_path.trim_start_matches("~/").rsplit('/').next().unwrap_or("")),
    ] {
        us.extend(us_entry(s));
    }
    let guid = rng.guid();
    let blob: Vec<u8> = {
        let mut v = vec![0u8, 0x03, 0x20, 0x00, 0x01, 0x04, 0x20, 0x01, 0x01, 0x0e, 0x08, 0xb7, 0x7a, 0x5c, 0x56];
        v.extend_from_slice(&[0x19, 0x34, 0xe0, 0x89, 0x08, 0xb0, 0x3f, 0x5f, 0x7f, 0x11, 0xd5, 0x0a, 0x3a]);
        v.extend_from_slice(&[0x05, 0x20, 0x01, 0x01, 0x11, 0x79, 0x04, 0x07, 0x01, 0x12, 0x2d]);
        v
    };
    // `#~`: the table-stream header and row counts of a small assembly; rows left zeroed.
    let mut tables = Buf::default();
    let rows: &[(u32, u32, u32)] = &[
        (0x00, 1, 10), // Module
        (0x01, 14, 6), // TypeRef
        (0x02, 3, 14), // TypeDef
        (0x04, 3, 6),  // Field
        (0x06, 9, 14), // MethodDef
        (0x08, 2, 6),  // Param
        (0x0a, 17, 6), // MemberRef
        (0x0c, 4, 6),  // CustomAttribute
        (0x11, 2, 2),  // StandAloneSig
        (0x20, 1, 22), // Assembly
        (0x23, 4, 20), // AssemblyRef
    ];
    let valid: u64 = rows.iter().map(|r| 1u64 << r.0).sum();
    tables.u32(0).u8(2).u8(0).u8(0).u8(1).u64(valid).u64(0x0000_1600_3301_fa00);
    for r in rows {
        tables.u32(r.1);
    }
    let row_bytes: u32 = rows.iter().map(|r| r.1 * r.2).sum();
    tables.zeros(row_bytes as usize).align(4);

    let mut md = Buf::default();
    md.bytes(b"BSJB").u16(1).u16(1).u32(0).u32(12).bytes(b"v4.0.30319\0\0").u16(0).u16(5);
    let heaps: [(&str, &[u8]); 5] =
        [("#~", &tables.0), ("#Strings", &strings), ("#US", &us), ("#GUID", &guid), ("#Blob", &blob)];
    let header_len: usize = 32 + heaps.iter().map(|(n, _)| 8 + (n.len() + 4) / 4 * 4).sum::<usize>();
    let mut offset = header_len as u32;
    let mut bodies = Vec::new();
    for (name, data) in heaps {
        let padded = data.len().div_ceil(4) * 4;
        md.u32(offset).u32(padded as u32).bytes(name.as_bytes());
        md.zeros((name.len() + 4) / 4 * 4 - name.len());
        offset += padded as u32;
        bodies.push((data, padded));
    }
    for (data, padded) in bodies {
        md.bytes(data).zeros(padded - data.len());
    }

    // .text: IAT, CLI header, method bodies (tiny headers + ret), metadata, import table, stub.
    const TEXT_RVA: u32 = 0x2000;
    let mut text = Buf::default();
    let iat = text.pos();
    text.u32(0).u32(0); // patched below
    let cli = text.pos();
    text.zeros(72);
    for _ in 0..9 {
        text.bytes(&[0x0a, 0x2a]); // tiny header (size 2), ret
    }
    text.align(4);
    let md_at = text.pos();
    text.bytes(&md.0).align(4);
    let imports = text.pos();
    text.zeros(40);
    let ilt = text.pos();
    text.u32(0).u32(0);
    let hint = text.pos();
    text.u16(0).bytes(b"_CorDllMain\0");
    let mscoree = text.pos();
    text.bytes(b"mscoree.dll\0");
    text.align(4);
    text.zeros(2);
    let entry = text.pos();
    text.bytes(&[0xff, 0x25]).u32(0x1000_0000 + TEXT_RVA + iat); // jmp [IAT]
    let text_virtual = text.pos();
    {
        let t = &mut text;
        t.patch_u32(iat, TEXT_RVA + hint);
        t.patch_u32(ilt, TEXT_RVA + hint);
        t.patch_u32(imports, TEXT_RVA + ilt);
        t.patch_u32(imports + 12, TEXT_RVA + mscoree);
        t.patch_u32(imports + 16, TEXT_RVA + iat);
        let mut c = Buf::default();
        c.u32(72).u16(2).u16(5).u32(TEXT_RVA + md_at).u32(md.0.len() as u32).u32(1).u32(0);
        c.zeros(72 - c.0.len());
        t.0[cli as usize..cli as usize + 72].copy_from_slice(&c.0);
    }

    // .rsrc: VS_VERSIONINFO of the assembly (UTF-16, so the DLL name is there wide as well).
    let mut vi = Buf::default();
    let kv = |b: &mut Buf, k: &str, v: &str| {
        b.align(4);
        let start = b.pos();
        b.u16(0).u16((v.encode_utf16().count() + 1) as u16).u16(1).bytes(&utf16(k)).u16(0).align(4);
        b.bytes(&utf16(v)).u16(0);
        let len = (b.pos() - start) as u16;
        b.patch_u16(start, len);
    };
    vi.u16(0).u16(52).u16(0).bytes(&utf16("VS_VERSION_INFO")).u16(0).align(4);
    vi.u32(0xfeef_04bd).u32(0x0001_0000).u32(0).u32(0).u32(0).u32(0).u32(0x3f).u32(0).u32(4).u32(2).u32(0);
    vi.u32(0).u32(0);
    let sfi = vi.pos();
    vi.u16(0).u16(0).u16(1).bytes(&utf16("StringFileInfo")).u16(0).align(4);
    let table = vi.pos();
    vi.u16(0).u16(0).u16(1).bytes(&utf16("000004b0")).u16(0).align(4);
    for (k, v) in [
        ("FileDescription", ""),
        ("FileVersion", "0.0.0.0"),
        ("InternalName", &dll),
        ("LegalCopyright", ""),
        ("OriginalFilename", &dll),
        ("ProductVersion", "0.0.0.0"),
        ("Assembly Version", "0.0.0.0"),
    ] {
        kv(&mut vi, k, if v.is_empty() { " " } else { v });
    }
    let vlen = vi.pos() as u16;
    vi.patch_u16(0, vlen);
    vi.patch_u16(sfi, vlen - sfi as u16);
    vi.patch_u16(table, vlen - table as u16);
    let mut rsrc = Buf::default();
    // Resource directory: type 16 (RT_VERSION) -> id 1 -> language 0 -> data entry.
    rsrc.u32(0).u32(0).u16(0).u16(0).u16(0).u16(1).u32(16).u32(0x8000_0018);
    rsrc.u32(0).u32(0).u16(0).u16(0).u16(0).u16(1).u32(1).u32(0x8000_0030);
    rsrc.u32(0).u32(0).u16(0).u16(0).u16(0).u16(1).u32(0).u32(0x48);
    let section = |end: u32| end.div_ceil(0x2000) * 0x2000;
    let rsrc_rva = section(TEXT_RVA + text_virtual);
    rsrc.u32(rsrc_rva + 0x58).u32(vi.0.len() as u32).u32(0).u32(0);
    rsrc.zeros(0x58 - rsrc.0.len());
    rsrc.bytes(&vi.0);
    let rsrc_virtual = rsrc.pos();

    // .reloc: the one fixup of the entry stub.
    let mut reloc = Buf::default();
    let page = (TEXT_RVA + entry + 2) & !0xfff;
    reloc.u32(page).u32(12).u16(0x3000 | ((TEXT_RVA + entry + 2 - page) as u16)).u16(0);
    let reloc_rva = section(rsrc_rva + rsrc_virtual);

    let file_align = |n: u32| n.div_ceil(0x200) * 0x200;
    // Real App_Web DLLs carry a few KB of IL and metadata; pad .text so the file is at least 7 KB.
    let text_raw = file_align(text_virtual).max(0x1400);
    let rsrc_raw = file_align(rsrc_virtual);
    let reloc_raw = 0x200;

    let mut pe = Buf::default();
    // DOS header and stub.
    pe.bytes(b"MZ").u16(0x90).u16(3).u16(0).u16(4).u16(0).u16(0xffff).u16(0).u16(0xb8).u16(0).u16(0).u16(0);
    pe.u16(0x40).u16(0).zeros(32).u32(0x80);
    pe.bytes(&[0x0e, 0x1f, 0xba, 0x0e, 0x00, 0xb4, 0x09, 0xcd, 0x21, 0xb8, 0x01, 0x4c, 0xcd, 0x21]);
    pe.bytes(b"This program cannot be run in DOS mode.\r\r\n$");
    pe.zeros(0x80 - pe.0.len());
    // PE header, COFF.
    pe.bytes(b"PE\0\0").u16(0x14c).u16(3).u32(p.time as u32).u32(0).u32(0).u16(0xe0).u16(0x2102);
    // Optional header (PE32).
    pe.u16(0x10b).u8(8).u8(0).u32(text_raw).u32(rsrc_raw + reloc_raw).u32(0);
    pe.u32(TEXT_RVA + entry).u32(TEXT_RVA).u32(rsrc_rva).u32(0x1000_0000).u32(0x2000).u32(0x200);
    pe.u16(4).u16(0).u16(0).u16(0).u16(4).u16(0).u32(0);
    pe.u32(reloc_rva + 0x2000).u32(0x200).u32(0).u16(3).u16(0x8540);
    pe.u32(0x10_0000).u32(0x1000).u32(0x10_0000).u32(0x1000).u32(0).u32(16);
    let dirs: [(u32, u32); 16] = [
        (0, 0),
        (TEXT_RVA + imports, 0x53),
        (rsrc_rva, rsrc_virtual),
        (0, 0),
        (0, 0),
        (reloc_rva, 12),
        (0, 0),
        (0, 0),
        (0, 0),
        (0, 0),
        (0, 0),
        (0, 0),
        (TEXT_RVA + iat, 8),
        (0, 0),
        (TEXT_RVA + cli, 72),
        (0, 0),
    ];
    for (rva, size) in dirs {
        pe.u32(rva).u32(size);
    }
    // Section table.
    let mut raw = 0x200u32;
    for (name, vsize, rva, rawsize, chars) in [
        (b".text\0\0\0", text_virtual, TEXT_RVA, text_raw, 0x6000_0020u32),
        (b".rsrc\0\0\0", rsrc_virtual, rsrc_rva, rsrc_raw, 0x4000_0040),
        (b".reloc\0\0", 12, reloc_rva, reloc_raw, 0x4200_0040),
    ] {
        pe.bytes(name).u32(vsize).u32(rva).u32(rawsize).u32(raw).u32(0).u32(0).u16(0).u16(0).u32(chars);
        raw += rawsize;
    }
    pe.zeros(0x200 - pe.0.len());
    pe.bytes(&text.0).zeros((text_raw - text_virtual) as usize);
    pe.bytes(&rsrc.0).zeros((rsrc_raw - rsrc_virtual) as usize);
    pe.bytes(&reloc.0).zeros(reloc_raw as usize - reloc.0.len());
    pe.0
}

// ---------------------------------------------------------------------------------------------
// CAB

/// An uncompressed cabinet (`MSCF`, one folder, `typeCompress` none) of `files`, dated `t`.
pub(crate) fn cab(files: &[(&str, Vec<u8>)], t: i64, set_id: u16) -> Vec<u8> {
    let c = civil(t);
    let date = (((c.y - 1980) as u16) << 9) | ((c.mo as u16) << 5) | c.d as u16;
    let time = ((c.h as u16) << 11) | ((c.mi as u16) << 5) | (c.s as u16 / 2);
    let data: Vec<u8> = files.iter().flat_map(|f| f.1.iter().copied()).collect();
    let files_len: u32 = files.iter().map(|f| 16 + f.0.len() as u32 + 1).sum();
    let coff_files = 36 + 8;
    let data_start = coff_files + files_len;
    let blocks: Vec<&[u8]> = data.chunks(0x8000).collect();
    let total = data_start + blocks.iter().map(|b| 8 + b.len() as u32).sum::<u32>();
    let mut b = Buf::default();
    b.bytes(b"MSCF").u32(0).u32(total).u32(0).u32(coff_files).u32(0).u8(3).u8(1);
    b.u16(1).u16(files.len() as u16).u16(0).u16(set_id).u16(0);
    b.u32(data_start).u16(blocks.len() as u16).u16(0);
    let mut off = 0u32;
    for (name, bytes) in files {
        b.u32(bytes.len() as u32).u32(off).u16(0).u16(date).u16(time).u16(0x20).bytes(name.as_bytes()).u8(0);
        off += bytes.len() as u32;
    }
    for block in blocks {
        b.u32(0).u16(block.len() as u16).u16(block.len() as u16).bytes(block);
    }
    b.0
}

/// The first 4 KB of a registry hive file (`regf` base block) named `name`: enough to be taken
/// for an exported `system` / `security` hive, and nothing of a real one.
pub(crate) fn hive_stub(rng: &mut Rng, name: &str, t: i64) -> Vec<u8> {
    let mut b = Buf::default();
    let seq = rng.range(1000, 90_000) as u32;
    let ft = (t / 1000 + 11_644_473_600) as u64 * 10_000_000;
    b.bytes(b"regf").u32(seq).u32(seq).u64(ft).u32(1).u32(5).u32(0).u32(1).u32(0x20).u32(0x1000).u32(1);
    // FileName holds the last 31 characters of the hive path.
    let path: Vec<char> = format!("\\SystemRoot\\System32\\Config\\{name}").chars().collect();
    let tail: String = path[path.len().saturating_sub(31)..].iter().collect();
    b.bytes(&utf16(&tail));
    b.zeros(4096 - b.0.len());
    b.0
}
