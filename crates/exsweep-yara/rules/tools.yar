/*
   exsweep built-in YARA rules: what the 2021 Exchange intruders left besides web shells (LSASS
   dumps, remote shells, the DearCry ransomware). Written for exsweep from the public descriptions
   in Microsoft's HAFNIUM blog, CISA AA21-062A / CHIRP, ESET and Test-ProxyLogon.ps1
   (../shared/knowledge/exchange-artifacts.md §4.2).
*/

rule EXS_LSASS_Minidump
{
    meta:
        id = "EXS-YARA-LSASS-MINIDUMP"
        title = "Memory dump of lsass.exe (procdump or comsvcs.dll MiniDump): credential theft"
        description = "A MINIDUMP (MDMP signature, version 0xA793) whose module list names lsass.exe and the LSA authentication packages (lsasrv, msv1_0, wdigest, kerberos)"
        severity = "high"
        category = "post_exploitation"
        actors = "HAFNIUM"
        attack = "T1003.001"
        reference = "Microsoft HAFNIUM blog (procdump -accepteula -ma lsass.exe C:\\windows\\temp\\lsass); CISA CHIRP AA21-062A; Test-ProxyLogon.ps1"
        author = "exsweep"
    strings:
        $lsass = "lsass.exe" nocase wide ascii
        $lsasrv = "lsasrv.dll" nocase wide ascii
        $msv = "msv1_0.dll" nocase wide ascii
        $wdigest = "wdigest.dll" nocase wide ascii
        $kerberos = "kerberos.dll" nocase wide ascii
    condition:
        uint32(0) == 0x504D444D and uint16(4) == 0xA793 and $lsass and 2 of ($lsasrv, $msv, $wdigest, $kerberos)
}

rule EXS_PowerCat_Reverse_Shell
{
    meta:
        id = "EXS-YARA-POWERCAT"
        title = "PowerCat (PowerShell netcat) script or command"
        description = "PowerCat fetched from raw.githubusercontent.com/besimorhino/powercat and run as 'powercat -c <ip> -p <port> -e powershell'"
        severity = "high"
        category = "post_exploitation"
        actors = "HAFNIUM"
        attack = "T1059.001,T1105"
        reference = "Microsoft HAFNIUM blog"
        author = "exsweep"
    strings:
        $url = "besimorhino/powercat" nocase ascii wide
        $fn = "function powercat" nocase ascii wide
        $run = /powercat\s+-c\s+[0-9a-z\.\-]{3,64}\s+-p\s+[0-9]{1,5}\s+-e\s+(cmd|powershell)/ nocase ascii wide
    condition:
        filesize < 2MB and any of them
}

rule EXS_Nishang_TCP_OneLiner
{
    meta:
        id = "EXS-YARA-NISHANG-TCP"
        title = "Nishang Invoke-PowerShellTcpOneLine reverse shell"
        description = "New-Object Net.Sockets.TCPClient(' ... .GetStream();[byte[]]$ ... ([text.encoding]::ASCII).GetBytes((iex $"
        severity = "high"
        category = "post_exploitation"
        actors = "HAFNIUM"
        attack = "T1059.001"
        reference = "Microsoft HAFNIUM blog; signature-base HKTL_Nishang_PS1_Invoke_PowerShellTcpOneLine (description)"
        author = "exsweep"
    strings:
        $tcp = "Net.Sockets.TCPClient(" nocase ascii wide
        $stream = ".GetStream();[byte[]]$" nocase ascii wide
        $iex = "GetBytes((iex $" nocase ascii wide
    condition:
        filesize < 1MB and $tcp and ($stream or $iex)
}

rule EXS_DearCry_Ransomware
{
    meta:
        id = "EXS-YARA-DEARCRY"
        title = "DearCry ransomware"
        description = "DearCry (first seen 2021-03-09 on exploited Exchange servers): DEARCRY! marker, EncryptFile.exe.pdb, the ransom note text"
        severity = "critical"
        category = "post_exploitation"
        actors = "DearCry operators"
        attack = "T1486"
        reference = "MSTIC feed 2021-03-11; CISA MAR-10330097-1.v1"
        author = "exsweep"
    strings:
        $m1 = "DEARCRY!" ascii
        $m2 = "EncryptFile.exe.pdb" ascii
        $m3 = "Your file has been encrypted!" ascii
        $m4 = "C:\\Users\\john\\" ascii
        $m5 = "create rsa error" ascii
    condition:
        uint16(0) == 0x5A4D and filesize < 4MB and 2 of them
}

rule EXS_Recon_CAB
{
    meta:
        id = "EXS-YARA-RECON-CAB"
        title = "Cabinet of reconnaissance output and registry hives (staged for exfiltration)"
        description = "A CAB (MSCF) holding ip.txt and arp.txt with the SYSTEM and SECURITY hives, as packed on exploited Exchange servers"
        severity = "high"
        category = "post_exploitation"
        actors = "HAFNIUM"
        attack = "T1560.001,T1003.002,T1016"
        reference = "signature-base APT_HAFNIUM_ForensicArtefacts_Cab_Recon_Mar21_1 (description); exchange-artifacts.md §4.2"
        author = "exsweep"
    strings:
        $ip = "ip.txt" ascii
        $arp = "arp.txt" ascii
        $system = "system" ascii
        $security = "security" ascii
    condition:
        uint32(0) == 0x4643534D and filesize < 100MB and $ip and $arp and ($system or $security)
}
