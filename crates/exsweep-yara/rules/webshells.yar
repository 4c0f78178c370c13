/*
   exsweep built-in YARA rules: the web shells of the 2021 Exchange intrusions.
   Written for exsweep from the public descriptions in Microsoft's HAFNIUM blog, CISA AA21-062A and
   its MARs, Volexity's "Operation Exchange Marauder" post and ESET's "Exchange servers under siege"
   (see ../shared/knowledge/exchange-artifacts.md §1.9, §1.10 and §4.1). Each rule's `id` is the
   exsweep rule id of its findings; `severity`, `category`, `actors`, `cves` and `attack` fill the
   finding's fields.
*/

rule EXS_China_Chopper_Eval_Request
{
    meta:
        id = "EXS-YARA-CHOPPER"
        title = "China Chopper web shell (JScript eval of a request value, \"unsafe\")"
        description = "The one-line China Chopper ASPX: eval(Request[\"key\"],\"unsafe\") or eval(Request.Item[...]), in a script block or a page directive"
        severity = "critical"
        category = "webshell"
        actors = "HAFNIUM"
        cves = "CVE-2021-27065,CVE-2021-26858"
        attack = "T1505.003"
        reference = "https://www.microsoft.com/security/blog/2021/03/02/hafnium-targeting-exchange-servers/; CISA MAR-10328877 to MAR-10331466"
        author = "exsweep"
    strings:
        $eval_req = /eval\s*\(\s*Request(\.Item)?\s*[\[\(]/ nocase ascii wide
        $eval_form = /eval\s*\(\s*Request\.Form\s*[\[\(]/ nocase ascii wide
        $unsafe = "\"unsafe\"" nocase ascii wide
        $item_unsafe = /Request\.Item\[[^\]]{1,40}\]\)\)\s*,\s*"unsafe"/ nocase ascii wide
        $jscript1 = /language\s*=\s*"?JScript"?/ nocase ascii wide
        $runat = "runat=\"server\"" nocase ascii wide
    condition:
        filesize < 200KB and (
            ($eval_req and $unsafe) or
            $item_unsafe or
            ($eval_form and ($jscript1 or $runat))
        )
}

rule EXS_China_Chopper_Form_Eval
{
    meta:
        id = "EXS-YARA-CHOPPER-FORM"
        title = "China Chopper variant evaluating a posted form field (JScript, Debug=true)"
        description = "A tiny <%@ Page Language=\"Jscript\" Debug=true%> page that reads Request.Form(\"...\") and evaluates it"
        severity = "critical"
        category = "webshell"
        actors = "HAFNIUM"
        attack = "T1505.003"
        reference = "signature-base APT_WEBSHELL_Tiny_WebShell (description); exchange-artifacts.md §4.1"
        author = "exsweep"
    strings:
        $page = /<%@\s*Page\s+Language\s*=\s*"Jscript"[^%]{0,40}Debug\s*=\s*true/ nocase ascii wide
        $form = /=\s*Request\.Form\(\s*"/ nocase ascii wide
        $eval = "eval(" nocase ascii wide
    condition:
        filesize < 2KB and $page and $form and $eval
}

rule EXS_China_Chopper_Obfuscated
{
    meta:
        id = "EXS-YARA-CHOPPER-OBFUSCATED"
        title = "Obfuscated China Chopper web shell (_0x string table)"
        description = "A China Chopper whose strings sit in an _0x... array: ';eval(Request[_0x' and ','orange','unsafe','"
        severity = "critical"
        category = "webshell"
        actors = "HAFNIUM"
        cves = "CVE-2021-27065"
        attack = "T1505.003,T1027"
        reference = "signature-base APT_MAL_ASPX_HAFNIUM_Chopper_Mar21_3/_4 (descriptions); CISA AA21-062A"
        author = "exsweep"
    strings:
        $var = /<script\s+language="JScript"\s+runat="server">\s*var\s+_0x[0-9a-f]{2,8}/ nocase ascii wide
        $eval = /;eval\(Request\[_0x[0-9a-f]{2,8}/ nocase ascii wide
        $table = "','orange','unsafe','" ascii wide
    condition:
        filesize < 20KB and 2 of them
}

rule EXS_China_Chopper_Base64_Eval
{
    meta:
        id = "EXS-YARA-CHOPPER-BASE64"
        title = "China Chopper variant evaluating base64-decoded request data"
        description = "<%@Page Language=\"Jscript\"%> with .FromBase64String( and eval(System.Text.Encoding.: a small JScript page that decodes and evaluates its input"
        severity = "critical"
        category = "webshell"
        actors = "HAFNIUM"
        attack = "T1505.003,T1140"
        reference = "CISA AA21-062A MARs; exchange-artifacts.md §4.1"
        author = "exsweep"
    strings:
        $page = /<%@\s*Page\s+Language\s*=\s*"Jscript"/ nocase ascii wide
        $b64 = ".FromBase64String(" nocase ascii wide
        $eval = "eval(System.Text.Encoding." nocase ascii wide
    condition:
        filesize < 4KB and $page and $b64 and $eval
}

rule EXS_OAB_VirtualDirectory_Dump_Webshell
{
    meta:
        id = "EXS-YARA-OAB-DUMP"
        title = "OAB virtual-directory dump carrying a script in ExternalUrl (CVE-2021-27065 web shell)"
        description = "The text a ResetOABVirtualDirectory writes (the virtual directory's properties) saved as a page, with a server-side script or a key in ExternalUrl/InternalUrl"
        severity = "critical"
        category = "webshell"
        actors = "HAFNIUM"
        cves = "CVE-2021-27065"
        attack = "T1505.003,T1190"
        reference = "CISA MAR-10329297-1.v1 (UwSPMsFi.aspx, 2XJHwN19.aspx); HelseCERT 2021-march-exchange"
        author = "exsweep"
    strings:
        $oab = "OfflineAddressBooks" nocase ascii wide
        $ext = /(External|Internal)Url\s+:/ nocase ascii wide
        $iam = "InternalAuthenticationMethods" nocase ascii wide
        $ept = "ExtendedProtectionTokenChecking" nocase ascii wide
        $script1 = /(External|Internal)Url\s+:\s*http[s]?:\/\/[^\r\n]{0,40}<script[^>]{0,60}runat\s*=\s*"?server/ nocase ascii wide
        $script2 = /(External|Internal)Url\s+:\s*http[s]?:\/\/[^\r\n]{0,40}(Page_Load|eval\s*\(|Request\[|<%)/ nocase ascii wide
        $key_only = /ExternalUrl\s+:\s*http:\/\/[a-z0-9]\/[^\s\r\n]{1,64}/ nocase ascii wide
    condition:
        filesize < 100KB and $oab and $ext and $iam and $ept and ($script1 or $script2 or $key_only)
}

rule EXS_SecChecker
{
    meta:
        id = "EXS-YARA-SECCHECKER"
        title = "SecChecker web shell (probes for EDR products, answers with digits)"
        description = "Backdoor:ASP/SecChecker.A: a page under 1 KB that checks for EDR files (FireEye xagt.exe, CrowdStrike csfalconservice.exe) and writes a digit"
        severity = "critical"
        category = "webshell"
        actors = "HAFNIUM"
        attack = "T1505.003,T1518.001"
        reference = "Microsoft HAFNIUM blog (Defender name Backdoor:ASP/SecChecker.A); MSTIC b75f163c..."
        author = "exsweep"
    strings:
        $fireeye = "fireeye\\xagt.exe" nocase ascii wide
        $falcon = "csfalconservice.exe" nocase ascii wide
        $exists = "File.Exists(" nocase ascii wide
        $write = /Response\.Write\(\s*"[0-9]"\s*\)/ nocase ascii wide
    condition:
        filesize < 4KB and uint8(0) == 0x3C and ($fireeye or $falcon) and $exists and $write
}

rule EXS_SPORTSBALL
{
    meta:
        id = "EXS-YARA-SPORTSBALL"
        title = "SPORTSBALL web shell (upload and command execution, cookie fqrspt)"
        description = "Volexity's SPORTSBALL: a cookie named fqrspt and a fixed base64 key"
        severity = "critical"
        category = "webshell"
        actors = "HAFNIUM"
        attack = "T1505.003"
        reference = "https://www.volexity.com/blog/2021/03/02/active-exploitation-of-microsoft-exchange-zero-day-vulnerabilities/"
        author = "exsweep"
    strings:
        $cookie = "fqrspt" ascii wide
        $key = "ZN2aDAB4rXsszEvCLrzgcvQ4oi5J1TuiRULlQbYwldE=" ascii wide
        $page = "<%@ Page" nocase ascii wide
    condition:
        filesize < 100KB and ($key or ($cookie and $page))
}

rule EXS_reGeorg_Tunnel_ASPX
{
    meta:
        id = "EXS-YARA-REGEORG"
        title = "reGeorg tunnel web shell (SOCKS over HTTP)"
        description = "An ASPX reGeorg tunnel: the X-CMD / X-STATUS / X-TARGET / X-PORT headers and its CONNECT, DISCONNECT, READ, FORWARD commands"
        severity = "critical"
        category = "webshell"
        actors = "HAFNIUM"
        attack = "T1505.003,T1090.001"
        reference = "Volexity webshell_aspx_reGeorgTunnel; https://github.com/sensepost/reGeorg (tool description)"
        author = "exsweep"
    strings:
        $cmd = "X-CMD" ascii wide
        $status = "X-STATUS" ascii wide
        $target = "X-TARGET" ascii wide
        $port = "X-PORT" ascii wide
        $c1 = "\"CONNECT\"" ascii wide
        $c2 = "\"DISCONNECT\"" ascii wide
        $c3 = "\"FORWARD\"" ascii wide
        $c4 = "\"READ\"" ascii wide
        $socket = "System.Net.Sockets" nocase ascii wide
        $page = "<%@" ascii wide
    condition:
        filesize < 200KB and $page and $cmd and ($status or $target or $port) and 2 of ($c*) and $socket
}

rule EXS_SimpleSeeSharp_Uploader
{
    meta:
        id = "EXS-YARA-SIMPLESEESHARP"
        title = "SimpleSeeSharp web shell (C# file uploader)"
        description = "Volexity's SimpleSeeSharp: a page under 1 KB starting with <%@ Page Language=\"C#\" %> that saves Request.Files[0]"
        severity = "critical"
        category = "webshell"
        actors = "HAFNIUM"
        attack = "T1505.003,T1105"
        reference = "Volexity webshell_aspx_simpleseesharp (description)"
        author = "exsweep"
    strings:
        $header = "<%@ Page Language=\"C#\" %>" nocase ascii
        $save = "Request.Files[0]" nocase ascii wide
        $saveas = ".SaveAs(" nocase ascii wide
    condition:
        filesize < 2KB and $header at 0 and $save and $saveas
}

rule EXS_ASPX_Uploader_Dropper
{
    meta:
        id = "EXS-YARA-ASPX-DROPPER"
        title = "ASPX dropper or uploader (writes request data to a server path)"
        description = "C# pages that write a posted file or posted text to disk: Request.Files[0].SaveAs(Server.MapPath(, or new StreamWriter(Request.Form[..]) + .Write(Request.Form[..])"
        severity = "critical"
        category = "webshell"
        actors = "HAFNIUM"
        attack = "T1505.003,T1105"
        reference = "CISA incident 10328929 rules (descriptions); exchange-artifacts.md §4.1"
        author = "exsweep"
    strings:
        $save_map = /Request\.Files\[0\]\.SaveAs\(\s*Server\.MapPath\(/ nocase ascii wide
        $sw = /StreamWriter\(\s*Request\.Form\[/ nocase ascii wide
        $write = /\.Write\(\s*Request\.Form\[/ nocase ascii wide
        $page_load = /runat\s*=\s*"server"\s*>\s*void\s+Page_Load\(object/ nocase ascii wide
    condition:
        filesize < 20KB and ($save_map or ($sw and $write) or ($page_load and $write))
}

rule EXS_ASPX_File_Explorer
{
    meta:
        id = "EXS-YARA-FILE-EXPLORER"
        title = "ASPX file-explorer web shell (drives, folders, upload, create)"
        description = "A web file manager: DriveInfo.GetDrives(), '.Text + \" Created!\"', directory listing and base64 handling"
        severity = "critical"
        category = "webshell"
        attack = "T1505.003,T1083"
        reference = "signature-base WEBSHELL_ASPX_FileExplorer_Mar21_1 (description); exchange-artifacts.md §4.1"
        author = "exsweep"
    strings:
        $drives = "DriveInfo.GetDrives()" nocase ascii wide
        $created = ".Text + \" Created!\"" ascii wide
        $dir = "Directory.GetDirectories(" nocase ascii wide
        $files = "Directory.GetFiles(" nocase ascii wide
        $b64 = "Convert.FromBase64String(" nocase ascii wide
        $page = "<%@" ascii wide
    condition:
        filesize < 200KB and $page and $drives and 2 of ($created, $dir, $files, $b64)
}

rule EXS_Compiled_Exchange_Webshell
{
    meta:
        id = "EXS-YARA-COMPILED-WEBSHELL"
        title = "Compiled web shell in Temporary ASP.NET Files (App_Web_*.dll of a shell)"
        description = "ASP.NET compiles a page on first request; the DLL of a shell dropped in aspnet_client or owa\\auth keeps its virtual path and JScript eval, or HAFNIUM's ' : http://f/' marker"
        severity = "high"
        category = "webshell"
        actors = "HAFNIUM"
        cves = "CVE-2021-27065"
        attack = "T1505.003"
        reference = "BSI rule WEBSHELL_Compiled_Webshell_Mar2021_1 and signature-base APT_MAL_ASP_DLL_HAFNIUM_Mar21_1 (descriptions)"
        author = "exsweep"
    strings:
        $vpath1 = "~/aspnet_client/" nocase ascii wide
        $vpath2 = "~/auth/" nocase ascii wide
        $marker_f = " : http://f/" wide
        $marker_g = " : http://g/" wide
        $eval = "JScriptEvaluate" ascii wide
        $req = "get_Request" ascii
    condition:
        uint16(0) == 0x5A4D and filesize < 200KB and (
            $marker_f or $marker_g or
            (($vpath1 or $vpath2) and ($eval or $req))
        )
}
