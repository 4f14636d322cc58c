# Builds offline, without nixpkgs: a file made from a source the demo's local server hands out.
# "Publish Build Result" builds this and publishes the result, signed, as a binary cache in IPFS.
let
  message = import <nix/fetchurl.nix> {
    url = "http://127.0.0.1:8790/greeting-1.0.txt";
    sha256 = "0sadajacdy83kq2y7hxw0nvjka43ah04qjklnagr3224lvhlyd81";
  };
in
derivation {
  name = "greeting-message-1.0";
  system = builtins.currentSystem;
  builder = "/bin/sh";
  args = [ "-c" "read line < ${message}; echo \"$line\" > $out" ];
}
