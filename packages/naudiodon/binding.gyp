{
  "targets": [
    {
      "target_name": "audex_naudiodon",
      "sources": [
        "src/native/addon.cc",
        "src/native/capture.cc",
        "src/native/compat.cc",
        "src/native/pa_thread.cc",
        "src/native/quiet.cc"
      ],
      "include_dirs": ["portaudio/include"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-std=c++17", "-fvisibility=hidden", "-O2"],
      "conditions": [
        ["OS=='linux' and target_arch=='x64'", {
          "copies": [{ "destination": "<(PRODUCT_DIR)", "files": ["portaudio/lib/linux-x64/libportaudio.so.2"] }],
          "link_settings": {
            "libraries": ["<(PRODUCT_DIR)/libportaudio.so.2", "-ldl", "-lpthread"],
            "ldflags": ["-Wl,-rpath,'$$ORIGIN'"]
          }
        }],
        ["OS=='linux' and target_arch=='arm'", {
          "copies": [{ "destination": "<(PRODUCT_DIR)", "files": ["portaudio/lib/linux-arm/libportaudio.so.2"] }],
          "link_settings": {
            "libraries": ["<(PRODUCT_DIR)/libportaudio.so.2", "-ldl", "-lpthread"],
            "ldflags": ["-Wl,-rpath,'$$ORIGIN'"]
          }
        }],
        ["OS=='linux' and target_arch!='x64' and target_arch!='arm'", {
          "link_settings": { "libraries": ["-lportaudio", "-ldl", "-lpthread"] }
        }],
        ["OS=='mac'", {
          "xcode_settings": {
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "MACOSX_DEPLOYMENT_TARGET": "10.15",
            "OTHER_LDFLAGS": ["-Wl,-rpath,@loader_path"]
          },
          "copies": [{ "destination": "<(PRODUCT_DIR)", "files": ["portaudio/lib/darwin/libportaudio.dylib"] }],
          "link_settings": { "libraries": ["<(PRODUCT_DIR)/libportaudio.dylib"] }
        }],
        ["OS=='win'", {
          "msvs_settings": { "VCCLCompilerTool": { "AdditionalOptions": ["/std:c++17"] } },
          "copies": [{ "destination": "<(PRODUCT_DIR)", "files": ["portaudio/lib/win32-x64/portaudio_x64.dll"] }],
          "link_settings": { "libraries": ["<(module_root_dir)/portaudio/lib/win32-x64/portaudio_x64.lib"] }
        }]
      ]
    }
  ]
}
