#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/bench/wide-corpus.sh -- the wider delta corpus of issue 18.
#
# usage: wide-corpus.sh TARGET_DIR [tuning|heldout|all]   (default all)
#        wide-corpus.sh --pins TARGET_DIR    (print the computed pins)
#
# Every pair is (old, new) = one file (or a deterministic tar of a directory)
# of two releases of a real third-party npm package, fetched with
# `npm pack NAME@VERSION` from the npm registry only. Each tarball is pinned by
# its registry integrity (sha512, checked here) and each extracted file by
# sha256, so the bytes are the same on every machine. Writes TARGET_DIR/NAME.old,
# TARGET_DIR/NAME.new and TARGET_DIR/MANIFEST.tsv (the format of
# ../shared/bench/delta-corpus.sh, `set` being tuning or heldout); tarballs are
# cached in TARGET_DIR/.tgz. Idempotent. Download it outside the repository
# (e.g. /work/bench-wide, about 600 MB with the cache); never commit the data.
#
# The split is fixed here: engine choices are tuned on the tuning half only and
# a change is accepted only if the held-out half improves too (issue 18).
# Kinds (column kind of MANIFEST's note): exe = native executable or shared
# library (C, C++, Rust, Go), data = data set or rule list, tree = tar of many
# small files, noop = near no-op release, incompr = incompressible payload.
#
# Needs: npm, tar (GNU), gzip, sha256sum, openssl, base64.
set -euo pipefail

PINS_ONLY=0
if [ "${1:-}" = --pins ]; then PINS_ONLY=1; shift; fi
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 [--pins] TARGET_DIR [tuning|heldout|all]" >&2; exit 2; }
TARGET=$1
WHICH=${2:-all}
case "$WHICH" in tuning|heldout|all) ;; *) echo "$0: set must be tuning, heldout or all" >&2; exit 2 ;; esac

# set name package old new how path(glob) sha256(old) sha256(new) kind: note
# how: file = one file (the glob must match exactly one), dir = deterministic tar of a directory
PAIRS=$(cat <<'EOF'
tuning	esbuild-p	@esbuild/linux-x64	0.28.1	0.28.2	file	package/bin/esbuild	0c6588b092a2c291a72bab90659f3c9e0e25e0fe59c9ac12b4dae4d945e5548c	e1698a3d5c6c0798fee4fd3b5cc816651f460c63d390a7a26ea4beb0b1884100	exe: Go static executable, patch release
heldout	esbuild-m	@esbuild/linux-x64	0.27.7	0.28.0	file	package/bin/esbuild	c638273fcf95573ca74af586677800b4dd874c55f8f945adb54316d6902ba14b	aafacdf135322bf47c882a4ea4db33d0375583f5b9c3fd2d4e12258e470568be	exe: Go static executable, minor release
tuning	lefthook-a	lefthook-linux-x64	2.2.1	2.2.2	file	package/bin/lefthook	4cfe773de735e62cf574ade601207a6fe8b6c987aa515f4a2ffa0d146857d9cd	7771d6243018b445bb83dd3c9b12dffd92a6067a3958f21d984bb389d8dbbc58	exe: Go executable, patch release (5 days)
heldout	lefthook-b	lefthook-linux-x64	2.2.2	2.2.4	file	package/bin/lefthook	7771d6243018b445bb83dd3c9b12dffd92a6067a3958f21d984bb389d8dbbc58	eb567d03ac68e3adb276e001623d0fbc063c95119dd5ba29a9df5ed0491b8b43	exe: Go executable, two patch releases (6 weeks)
heldout	biome-m	@biomejs/cli-linux-x64	2.5.15	2.6.2	file	package/biome	5d867a0b2ccea1755b7e508b01d836a8c64e31a1e4d11ec24b43b6b4eec8b3b6	43c08f3454d375d38c6441939acc8a557702bc8459272dd513f4f7474a4ed352	exe: Rust executable, minor release
tuning	rollup-m	@rollup/rollup-linux-x64-gnu	4.69.3	4.70.0	file	package/*.node	4426a054a16a3a7095fd9cc320386a5ad888679c75ddce400eadf48626aa2837	fb48f3f5b829ebf9c69cff73a6943fd4a3cb7b707e6f647c81e5956d72099f5a	exe: Rust node addon (ELF .so), minor release
heldout	rollup-noop	@rollup/rollup-linux-x64-gnu	4.69.2	4.69.3	file	package/*.node	4426a054a16a3a7095fd9cc320386a5ad888679c75ddce400eadf48626aa2837	4426a054a16a3a7095fd9cc320386a5ad888679c75ddce400eadf48626aa2837	noop: Rust node addon (ELF .so) that a patch release left unchanged
tuning	lightningcss-p	lightningcss-linux-x64-gnu	1.30.1	1.30.2	file	package/*.node	95391c184f5685282aea0831e1c41907bc9190270b9683d3452aaf8d275d0349	45ddc4ab13a8809fc9e544f8c3b6977a579e48feeeae7a4183791257ec09a543	exe: Rust node addon, patch release
heldout	lightningcss-m	lightningcss-linux-x64-gnu	1.32.0	1.33.0	file	package/*.node	2024f99789a601c7438b387117032ba07594cbba9b784064b47cdc60a0972326	84c6f35fb9c78f9920090f4017a9dc6dc50842a56c543f509943a0d434325d93	exe: Rust node addon, minor release
tuning	libvips-a	@img/sharp-libvips-linux-x64	1.3.3	1.3.4	file	package/lib/libvips-cpp.so*	536cee19ab906cb5185ad519bf87647693f5d7b55e608c92eb28607f89ca5125	4aa73553408c3964071728f4a231a8e86918e39bc49f1fbae75355f7ea933ea9	exe: C/C++ shared library (libvips and deps), patch release
heldout	libvips-b	@img/sharp-libvips-linux-x64	1.3.4	1.3.5	file	package/lib/libvips-cpp.so*	4aa73553408c3964071728f4a231a8e86918e39bc49f1fbae75355f7ea933ea9	b0c697d2c03b0da57649e2243be4b2a42c7f35a28c7fc97dfda94b22c26869cc	exe: C/C++ shared library (libvips and deps), patch release
tuning	oxc-parser-b	@oxc-parser/binding-linux-x64-gnu	0.159.0	0.160.0	file	package/*.node	ec6c2d66d3c11d2583c025eec068c26690d1487a56b78a5717f5bd63b6e8aaaf	d0c056d0388a00aca1f829e0aabd61c26f87f17e0a71eee4476797d14ea6b819	exe: Rust node addon, 0.x minor release
heldout	turbo-b	turbo-linux-64	2.8.14	2.8.15	file	*/bin/turbo	5f6fa1639d1d7388cb727e6d6fdabdf831e779f5b86485fe6a7aff2895bfe276	f56d76b9e6666548629e87e2d3d44357ec9b2eb58a1d15bb2bc6a5c3407e44c4	exe: Rust executable (~35 MB), patch release
tuning	parcel-watcher-noop	@parcel/watcher-linux-x64-glibc	2.5.6	2.6.0	file	package/watcher.node	f5a86a5231fb33c6c1830649eafd2c9e72647edb45aad753148d08cee6a42dea	f5a86a5231fb33c6c1830649eafd2c9e72647edb45aad753148d08cee6a42dea	noop: C++ node addon (0.5 MB) that a minor release left unchanged
heldout	canvas	@napi-rs/canvas-linux-x64-gnu	1.1.1	1.2.1	file	package/*.node	ef8a8b0c32ad747561d52d1a5961601ed8587b62eff30f4790afe749fc47d625	65caadd0e26522d3672ad3c1d8fbdc1f30bd117f1ac97086740b01f6bc695188	exe: C++ (Skia) node addon, minor release
tuning	dprint	@dprint/linux-x64-glibc	0.57.1	0.57.4	file	package/dprint	cf5961181b970d0fefb33a8b7c8a82765dd39ac5641935e0cdd76c475daed4b4	b74887f9292a5d3f9f1f027e0f4d6797630fb0be9e7e14f9672f72c0b1d7a672	exe: Rust executable, patch releases (3 days)
heldout	sentry-cli	@sentry/cli-linux-x64	3.7.0	3.8.0	file	package/bin/sentry-cli	cec71d46a7cc394c94b6e75f1601985c710d457376c546ef3975567b3671563b	13f8cb34ae01a6a272d7d7c22e277a105286615b4020de900ea95a8de47cdbb6	exe: Rust executable, minor release
tuning	mdn-bcd-w	@mdn/browser-compat-data	8.1.6	8.1.7	file	package/data.json	0bf3c9df85330628083f6f9f248b44f5a124431c0af056c78ed1c13e9617ce71	176cb1ea97c70f2ab8271e65f50643426932d9495e488b7e64925c8febe980f9	data: 20 MB JSON database, one week apart
heldout	tzdata	moment-timezone	0.6.5	0.6.6	file	package/data/packed/latest.json	4bfad054e91d7a4beba7bbff199cd60ab0fe05934cb9fc7f42b19fc3e820a53d	3103c5c0eaa879615da630b74e2373ad9b571e0eae992e0b2a3db6e4475de2ce	data: packed tz database (JSON), four weeks apart
tuning	geoip	geoip-lite	2.0.2	2.0.3	file	package/data/geoip-country.dat	b8ec868dc486faee0d5b3e0adc3a02df6a55425ef46e6b90859408bc6f6966c8	b8ec868dc486faee0d5b3e0adc3a02df6a55425ef46e6b90859408bc6f6966c8	data: binary IP-to-country database, two months apart
heldout	spdx	spdx-license-list	6.8.0	6.9.0	file	package/spdx-full.json	44465759e31408ecc6107c4c526fac3849118b1ebc08ee0fa834598de0911f8e	f70b2d1d1aee45a6f6e691d21fb041b590a6aa3bbbda7bd9ac981c70d1f8bb8a	data: SPDX license list with texts (JSON), minor release
tuning	mime-db	mime-db	1.53.0	1.54.0	file	package/db.json	3c41136860f9eb7893b4b4062c7872f4083f384056bb1499f48028aae8c51f32	96b8a5746867c832ab56743c05e46e73c9facb04879677df0b356f20496cb6cd	data: MIME type database (JSON), minor release
heldout	caniuse-tree	caniuse-lite	1.0.30001827	1.0.30001830	dir	package/data	6c97c4213ff16f6ef099f525d183ca629c1e607da5c6dfdba1ef0ff809f9b888	f01b32c2663b349d6f9527596e75dcabd98313c2335ba56efa44ecf6695b95fc	tree: tar of the data directory (~830 small JS files), 12 days apart
tuning	types-node	@types/node	26.6.10	26.6.11	dir	node	7ddbb284743d633aa11ceea334b97caae5ea6cbcbf72a4f0c2a0724362ead97c	473fd56a548fd8ca262f778b015df9a017a3b27cb3888e5f385134eae234fe8c	tree: tar of a package of ~80 .d.ts files, one day apart
tuning	user-agents	user-agents	2.1.197	2.1.198	file	package/dist/user-agents.json	3de953f9a184f7f7e6ad2ad61a17878b7c48c53525e0eeee06882ea266ad72c7	5432ce503c8d18fb6ac2dd668d019df3fdd94843a9472fda2525507f988e0022	data: user-agent list (JSON, 5 MB), regenerated daily, one day apart
tuning	swc-a	@swc/core-linux-x64-gnu	1.16.17	1.16.18	file	package/swc.linux-x64-gnu.node	f95536a80c99e0a0a388d2e964d1ebb84ecda64b331829785f3745d09d31a8b9	4f6e3a0ca67573414d044e5af189b3aa03e584595a8ed3499a802ecefc97d830	incompr: node addon with a 10 MB compressed section
heldout	swc-b	@swc/core-linux-x64-gnu	1.16.20	1.16.21	file	package/swc.linux-x64-gnu.node	8b70a461fc23b69d3526a8a4d20ad0dea4afbd0331013ef06e4867a160aed352	7a54eb61a27c6bc37f2aa342761d877578c0c67f3de11b863634085a6ca46462	incompr: node addon with a 10 MB compressed section
tuning	esbuild-wp	@esbuild/win32-x64	0.28.1	0.28.2	file	package/esbuild.exe	ec02ee9b14ab332416fedd10614dfb80eed5304d94f67745067c011934a8c3c3	c7bee37877d0aa6a046e52783fa0a2cf1a9ce5579d68bb3083bda99d4bff18ef	exe: Go Windows executable (PE32+), patch release
heldout	esbuild-wm	@esbuild/win32-x64	0.27.7	0.28.0	file	package/esbuild.exe	44ce6728d54c891b1c5a6d7dbfb1a0f13419884cca0b090f1fbcf0dcd8bee0e9	2ccfd6d5292493a810d21c0b40f9de3ff5252a0a24eb5dea3df07f33dcea0c0e	exe: Go Windows executable (PE32+), minor release
heldout	lefthook-w	lefthook-windows-x64	2.2.1	2.2.2	file	package/bin/lefthook.exe	543d363b58165b2ab511e371202f1fc1fd4097b3b2e014bf91edef898669c3a9	842f3fa8593e99ee36e1ab5243718b1ff8482361f7f5c7e434a04ab7889afd7d	exe: Go Windows executable (PE32+), patch release
tuning	lightningcss-wp	lightningcss-win32-x64-msvc	1.30.1	1.30.2	file	package/*.node	eb6d08b468b98c8b1b81468c422283a778ebd3398fdd05c2f8792d8f477908a2	6c899290befbf6ae66a9849460defae6d49dcfe14d5782db581777b00db8e167	exe: Rust Windows DLL (PE32+ node addon, MSVC), patch release
heldout	lightningcss-wm	lightningcss-win32-x64-msvc	1.32.0	1.33.0	file	package/*.node	83e7e838ef1bbf5454c651103574fec31a1cec0b453b999d1173365cbc6c7841	d043df0f0675e7fffed4cf8b8c33e28639ec9f21d445c21e7fe4985e4a9b5a91	exe: Rust Windows DLL (PE32+ node addon, MSVC), minor release
EOF
)
# Registry integrity of every tarball (npm view PKG@VER dist.integrity).
PINS=$(cat <<'EOF'
@biomejs/cli-linux-x64@2.5.15	sha512-xE4iEW/3LqlYj9GFgGrFsFSH51dEEpUbYWBfeOv0q87WkUDxK2o/HhreSb7qMJqck70RVM6Lg96hgedcAYcOkA==
@biomejs/cli-linux-x64@2.6.2	sha512-FJKsb95418139xDdbv9XnNJsIIwvsgR21Of0aE9B9U+nQlOtRq5gJl2ps0jZUmYBxTaOlP9BKo8N+Ff8+Rui1g==
@dprint/linux-x64-glibc@0.57.1	sha512-I0wN9IC0EAJsjTcK9OA9rMRoy7YvlGSrKQRe/ovJbFydfH9/+URAdmpKKTJB2kgtfqNQo19svc6JvR+21qF1Vg==
@dprint/linux-x64-glibc@0.57.4	sha512-BYrSdjYo+nfUgXqgIbZZQnHvpM6UP7Dipfsuzxs0JmuHZRRkJIPjDdj/Qpbn/5Qv1gC4eV0cZsxRu8B634wkig==
@esbuild/linux-x64@0.27.7	sha512-hzznmADPt+OmsYzw1EE33ccA+HPdIqiCRq7cQeL1Jlq2gb1+OyWBkMCrYGBJ+sxVzve2ZJEVeePbLM2iEIZSxA==
@esbuild/linux-x64@0.28.0	sha512-us0dSb9iFxIi8srnpl931Nvs65it/Jd2a2K3qs7fz2WfGPHqzfzZTfec7oxZJRNPXPnNYZtanmRc4AL/JwVzHQ==
@esbuild/linux-x64@0.28.1	sha512-u/anNYF2mmVOEDwLtnQ1wOr3EZ9sTNGLWrsYGYwHWzGA3Si84IOkHXlbWTD1NB+9/1lcnweYKO54uhxZydNzfA==
@esbuild/linux-x64@0.28.2	sha512-4xTZr1FUmSoQW4XIWmit3tzQrUTZM+N3P0XV8xROKYF50XfI7xeO90+1bZvNwxIufQ9hDQVRJH5YhgPVF8A/HQ==
@esbuild/win32-x64@0.27.7	sha512-56hiAJPhwQ1R4i+21FVF7V8kSD5zZTdHcVuRFMW0hn753vVfQN8xlx4uOPT4xoGH0Z/oVATuR82AiqSTDIpaHg==
@esbuild/win32-x64@0.28.0	sha512-pEl1bO9mfAmIC+tW5btTmrKaujg3zGtUmWNdCw/xs70FBjwAL3o9OEKNHvNmnyylD6ubxUERiEhdsL0xBQ9efw==
@esbuild/win32-x64@0.28.1	sha512-bm4Mowrv+GXMlpWX++EcXw/iLyd1o3+bJkC2DkWXYVvgZCqD/bSj9ctZeAMC3cIxgjRVR2Dufaiu4YPxr5gW1A==
@esbuild/win32-x64@0.28.2	sha512-5ebpxr3nWMzrL/rnUI755Jkuee0bHL/Gq0WTF9lvcpv73wAp5eu8MfBUgWK9bhWvZjj7yX8etf/8tI8Ney695g==
lefthook-windows-x64@2.2.1	sha512-7FtuPrc1XzxIFLAbzneOF1hr9r/vGi2lcMpX14QG9d/mnLhwu4EyNBh48JNEqsQqrOB9QKavsNqxVl1e8zcukA==
lefthook-windows-x64@2.2.2	sha512-9Ck4zancQilBfXT3ZeRipm7Lcq4RQfxyMpy8SAVINw0t/BrbjsT25V46ZuziERcwdajnE4myfMzC33GoCBwr7g==
lightningcss-win32-x64-msvc@1.30.1	sha512-PVqXh48wh4T53F/1CCu8PIPCxLzWyCnn/9T5W1Jpmdy5h9Cwd+0YQS6/LwhHXSafuc61/xg9Lv5OrCby6a++jg==
lightningcss-win32-x64-msvc@1.30.2	sha512-5g1yc73p+iAkid5phb4oVFMB45417DkRevRbt/El/gKXJk4jid+vPFF/AXbxn05Aky8PapwzZrdJShv5C0avjw==
lightningcss-win32-x64-msvc@1.32.0	sha512-Amq9B/SoZYdDi1kFrojnoqPLxYhQ4Wo5XiL8EVJrVsB8ARoC1PWW6VGtT0WKCemjy8aC+louJnjS7U18x3b06Q==
lightningcss-win32-x64-msvc@1.33.0	sha512-OlEICDx/Xl0FqSp4bry8zFnCvGpig3Gl4gCquvYwHuqJKEC1+n9NgDniFvqHGmMv1ZkqDJrDqKKSykTDX+ehuA==
@img/sharp-libvips-linux-x64@1.3.3	sha512-4vKmvAst9nrowcqquKFAyZJUDolUaIp8uRiN0mWFguJ1IplC9/pitXtlnnlU4aa/eJw3J7i67V+pwUL+wZGdsA==
@img/sharp-libvips-linux-x64@1.3.4	sha512-GJ//SSXbnwSDes02umB3nDJLFcQzw8a18V8fyhqr6tV515tOEMdImjjxj1AoafMRz56F3PHgftnj1QEKSU1zkw==
@img/sharp-libvips-linux-x64@1.3.5	sha512-3VGDsRGFGVidz6AIeLWYxNlo6yZizVkEr0O3dgex6rsNHtCm6jgIj6bseSfOamn8Nq/Hcw6JZ9TxTT5ASjy+Sg==
@mdn/browser-compat-data@8.1.6	sha512-bTP5c58cBsgMOokwa/ECLcAxTkIwBe9csIts92Nq2wviediIJadh9iHI4Ezn2q6RiZhy7b54SNRn/tZpPKtTsA==
@mdn/browser-compat-data@8.1.7	sha512-TJ+rX530bFoE8678PuH2gjCSzwpBcaLlcElRhnnxFdkLHHT1clUAxtjImPFZDAlWQ005px9xaJ4Nd+aQp/rylQ==
@napi-rs/canvas-linux-x64-gnu@1.1.1	sha512-7bZfDI9lxKqj9wJRHiSQBimCRanxDGHYE7TugnOmFJ9ScpgFSsLHFQtOH9wvmbQvBwv5nBuDBGJlG0+7iGkN+w==
@napi-rs/canvas-linux-x64-gnu@1.2.1	sha512-1/7y8Yx589PcQE8Xuvc0ZLRwEsjA1FonfV+ZWUS4s+pwI6Aa5i+VHUhAv+pR1692A+mIjuaH5FpH89+CFK0Nng==
@oxc-parser/binding-linux-x64-gnu@0.159.0	sha512-dH2vcVJi2sqSd2S51WB/LXyoJKho+TL7UoCDOuMZ+0mggFF9Gf4fjspo89hZnT/KrINBJg3UsGlfogHGHUmQNA==
@oxc-parser/binding-linux-x64-gnu@0.160.0	sha512-v44/JCrzpIof2jAJwF9W1j9l7mZKEaKihd8vBECBaNyIPcOiO4dtkeGX51MxnGmrJbsltdvTJb60VXLyMyAD2w==
@parcel/watcher-linux-x64-glibc@2.5.6	sha512-kbT5wvNQlx7NaGjzPFu8nVIW1rWqV780O7ZtkjuWaPUgpv2NMFpjYERVi0UYj1msZNyCzGlaCWEtzc+exjMGbQ==
@parcel/watcher-linux-x64-glibc@2.6.0	sha512-ulGE6x6Oz6iAwg75T8YQSoguBWasniIbX+QWpaYPcCnDOpdWX3k+4xbEYPZVLxOuoJI+svJJPD3sEj8G7lrQ3A==
@rollup/rollup-linux-x64-gnu@4.69.2	sha512-f6r8/c2UkIDBKlw5qutZRjLMIlsBdb8auSvZODyG7+DX4dG8abi91IqnGxntj0K0PJTjLk1y6Z0An3noMOF7dw==
@rollup/rollup-linux-x64-gnu@4.69.3	sha512-uBpTadP1uQZZvVe+AV4dsTwNfs1H92Ra231OcHW2PVOYdW83PS899Wr3bXGbJO5erxWVfiZ70oPnhCPJ5utL3A==
@rollup/rollup-linux-x64-gnu@4.70.0	sha512-HtW1O4zOk0cxfRk4U2WLz1D3K7xYkSFj5uNo3ggK1yCS8qt08q5lQxSwkJifS8QF1TmbkikaY3ScoMt4vITWeg==
@sentry/cli-linux-x64@3.7.0	sha512-74R9fuAldhC38Aoco8XQWTBvs2T2NatrDvI/ISHihej2oSnbQmL7krJF3yWn33MchQWrsFKgg7mboqemJnreZA==
@sentry/cli-linux-x64@3.8.0	sha512-jMXbyLIuGFW1uuFSByy54edkHPIaiCVyymKW0ia+lgA6nfFEH4Y1Z+bxXyK6BBr8TD6/P5ROqiPivg0oFEDciQ==
@swc/core-linux-x64-gnu@1.16.17	sha512-it1yehbWrUY9+ENZ3b7qteI3Qobz1f+XUczSg6WRhfLU59sjoTxO4plcBPTB+Gq7UVfjzzOa1Pe+j0LOJy9eaA==
@swc/core-linux-x64-gnu@1.16.18	sha512-Ml6kbe0BoVJkSgmYPAEUudGcu84jaQeqDN8xeMumbwNpT0vlmm7241Ddp9XKCjQABvjomnXF0OiNOAfjBhNDNw==
@swc/core-linux-x64-gnu@1.16.20	sha512-XtMeYAgQa5UZhAX84TXn0sXPmhf1xHwcv0cl5hHiBXxTVbplY7WiTwIQU9uOtVm3VUqL/quyCm78/umUNZ7FmA==
@swc/core-linux-x64-gnu@1.16.21	sha512-EUJsyrFw3aNE64iQzk3bDqjADgl4l0vpxfwVMjMuZIooNg35yKqvkw3bYNEhQyrBDY0+5kKoiirGLpth3Wf3lA==
@types/node@26.6.10	sha512-WJuPHoGB8WNQuTksNF7SOQpnH02PXeDYz4iueWbBT6/hTWnShY5F3T/hoJA3fY9+uYReDZ7pyTKKx83jQa7aGg==
@types/node@26.6.11	sha512-uUyQ2XLEz+EXh34lmS3GhKrkqn/8FU7KUiKRpk347At2bmnMVWss45yz8b4FG/tUtmV1tV/+TVkITItPROyeeQ==
caniuse-lite@1.0.30001827	sha512-YWEDr46gSO81M8w6uPbaIy4++IXsirx2asUqvllNiD4BPf75ibxclUjWEqp8ObCenRv+UM2n5Y8xuRPT8V8FrQ==
caniuse-lite@1.0.30001830	sha512-0TFl6VuW52V0JxUPXnqjNNxZ9I8bAH9to34KYZZBUWe/5yD+YBWda/mBXxlwnLLHm5LSoGyyo2KeuNheSJXywA==
geoip-lite@2.0.2	sha512-C90u7hFgIrDTboiqJm+pc23buM5TykTJq11sCsRItKr6a4IHIHJvZPjq+pY96+Q15saWAMzs3ILzqyEVF0v2gA==
geoip-lite@2.0.3	sha512-I0v/6sITK5FhEXHmatGSPBMply2nHN/2D743LIx4KkksttZt/E505lDaV6qUwt5RM08MbZW+/4E0KxusLVN39w==
lefthook-linux-x64@2.2.1	sha512-wl7CR5uNkOiZ38SkW4l9O6wf/Nllbkw90ZZonXRFkbgrnPjLMhZGUt9ucewsPwBQ/ckU1t08JuBHeOywB/CFow==
lefthook-linux-x64@2.2.2	sha512-N/OlQyAhcU6RAXjrwFxLsh70sn96rBoi+XkuLJ8CVBkk9Ci3VDXQayDZTNz5B1xML8RwoMcV8Wblniy1xFOmSA==
lefthook-linux-x64@2.2.4	sha512-SgT8h7s8WUd9Hhl+vm6iLIyzsXue5OV4I72LGHFsnK7lY6wpRZyANx/6fwkjnGmWBtjX4XHCgGpZc9ULF+Jlvg==
lightningcss-linux-x64-gnu@1.30.1	sha512-piWx3z4wN8J8z3+O5kO74+yr6ze/dKmPnI7vLqfSqI8bccaTGY5xiSGVIJBDd5K5BHlvVLpUB3S2YCfelyJ1bw==
lightningcss-linux-x64-gnu@1.30.2	sha512-Cfd46gdmj1vQ+lR6VRTTadNHu6ALuw2pKR9lYq4FnhvgBc4zWY1EtZcAc6EffShbb1MFrIPfLDXD6Xprbnni4w==
lightningcss-linux-x64-gnu@1.32.0	sha512-V7Qr52IhZmdKPVr+Vtw8o+WLsQJYCTd8loIfpDaMRWGUZfBOYEJeyJIkqGIDMZPwPx24pUMfwSxxI8phr/MbOA==
lightningcss-linux-x64-gnu@1.33.0	sha512-ar+Ju7LmcN0Jo4FpL4hpFybwNG9/3A/Br5KW2n2jyODg3MEZXaDYADdemoNS+BDNfMgKvylJLj4S5tyRActuAg==
mime-db@1.53.0	sha512-oHlN/w+3MQ3rba9rqFr6V/ypF10LSkdwUysQL7GkXoTgIWeV+tcXGA852TBxH+gsh8UWoyhR1hKcoMJTuWflpg==
mime-db@1.54.0	sha512-aU5EJuIN2WDemCcAp2vFBfp/m4EAhWJnUNSSw0ixs7/kXbd6Pg64EmwJkNdFhB8aWt1sH2CTXrLxo/iAGV3oPQ==
moment-timezone@0.6.5	sha512-KKzZAxGv2Qx4cnk6eSlvf4C+DLFW52vmMY5MN7UARY7GONbozkutylQG3DrrtmLCTXdQ5XZrqao9cI16bLFzXA==
moment-timezone@0.6.6	sha512-LF5AAYsMduXFW2ungr/D9JqNq9ykZyhWgYG6wFtdGZW5ZlBDTBgTUFqW8EC7Fa+Dvs3IMZxlWkSR09sW2D/+0w==
spdx-license-list@6.8.0	sha512-5UdM7r9yJ1EvsPQZWfa41AZjLQngl9iMMysm9XBW7Lqhq7aF8cllfqjS+rFCHB8FFMGSM0yFWue2LUV9mR0QzQ==
spdx-license-list@6.9.0	sha512-L2jl5vc2j6jxWcNCvcVj/BW9A8yGIG02Dw+IUw0ZxDM70f7Ylf5Hq39appV1BI9yxyWQRpq2TQ1qaXvf+yjkqA==
turbo-linux-64@2.8.14	sha512-XC6wPUDJkakjhNLaS0NrHDMiujRVjH+naEAwvKLArgqRaFkNxjmyNDRM4eu3soMMFmjym6NTxYaF74rvET+Orw==
turbo-linux-64@2.8.15	sha512-Bk1E61a+PCWUTfhqfXFlhEJMLp6nak0J0Qt14IZX1og1zyaiBLkM6M1GQFbPpiWfbUcdLwRaYQhO0ySB07AJ8w==
user-agents@2.1.197	sha512-b2Sdn5NG/HbT4pK64ziPjno5n4nGlLWZgaJjvPa6wyU+Xkp5e3fnTWLIMYT4IxoKE38KBd3iLGcEdQ5OldF7yg==
user-agents@2.1.198	sha512-cpFqEfpW1DW7MZYfJaknK5mNJZBgUwfroY0y1jSVy8Y93T4pmP0wp5HhXTOqZUbUbFppp0fwCyfttG9rsl3vqw==
EOF
)

need() { command -v "$1" >/dev/null 2>&1; }
for t in npm tar gzip sha256sum openssl base64; do need "$t" || { echo "wide-corpus: $t is required" >&2; exit 1; }; done
mkdir -p "$TARGET/.tgz"
TARGET=$(cd "$TARGET" && pwd)
CACHE=$TARGET/.tgz
WORK=$(mktemp -d "${TMPDIR:-/tmp}/wide-corpus.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

integrity() { echo "sha512-$(openssl dgst -sha512 -binary "$1" | base64 -w0)"; }
pin_of() { printf '%s\n' "$PINS" | awk -v k="$1" '$1 == k { print $2 }'; }

# fetch NAME VERSION -> prints the path of the cached, integrity-checked tarball
fetch() {
  local pkg=$1 ver=$2 f want got
  f=$CACHE/$(printf '%s' "${pkg#@}" | tr '/' '-')-$ver.tgz
  if [ ! -s "$f" ] || ! gzip -t "$f" 2>/dev/null; then
    rm -f "$f"
    (cd "$WORK" && rm -f ./*.tgz && npm pack "$pkg@$ver" --silent --loglevel=error >/dev/null 2>"$WORK/npm.err") \
      || { cat "$WORK/npm.err" >&2; echo "wide-corpus: npm pack $pkg@$ver failed" >&2; exit 1; }
    mv "$WORK"/*.tgz "$f.part" && mv "$f.part" "$f"
  fi
  want=$(pin_of "$pkg@$ver"); got=$(integrity "$f")
  if [ -n "$want" ] && [ "$want" != "$got" ]; then
    echo "wide-corpus: $pkg@$ver: integrity $got, pinned $want" >&2; rm -f "$f"; exit 1
  fi
  [ $PINS_ONLY = 0 ] || printf '%s@%s\t%s\n' "$pkg" "$ver" "$got" >> "$WORK/pins"
  printf '%s\n' "$f"
}

# extract TARBALL HOW GLOB OUT
extract() {
  local tgz=$1 how=$2 glob=$3 out=$4 d m
  d=$WORK/x; rm -rf "$d"; mkdir -p "$d"
  tar -xzf "$tgz" -C "$d" --no-same-owner
  # shellcheck disable=SC2206
  m=( $(cd "$d" && compgen -G "$glob" || true) )
  [ ${#m[@]} -eq 1 ] || { echo "wide-corpus: '$glob' matches ${#m[@]} entries in $tgz" >&2; exit 1; }
  if [ "$how" = file ]; then
    [ -f "$d/${m[0]}" ] || { echo "wide-corpus: $glob is not a file in $tgz" >&2; exit 1; }
    cp "$d/${m[0]}" "$out.part"
  else
    [ -d "$d/${m[0]}" ] || { echo "wide-corpus: $glob is not a directory in $tgz" >&2; exit 1; }
    tar -C "$(dirname "$d/${m[0]}")" --sort=name --owner=0 --group=0 --numeric-owner \
        --mtime=@0 --mode=u+rw,go+r-w --format=gnu -cf "$out.part" "$(basename "${m[0]}")"
  fi
  mv "$out.part" "$out"
}
ok() { [ -s "$1" ] && { [ "$2" = - ] || [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }; }

MAN=$(mktemp "$TARGET/MANIFEST.tsv.XXXXXX") # two runs at once must not mix their lines
printf 'pair\tset\tpackage\told\tnew\told_bytes\tnew_bytes\told_sha256\tnew_sha256\tnote\n' > "$MAN"
n=0
while IFS=$'\t' read -r set name pkg ov nv how glob so sn note; do
  [ "$WHICH" = all ] || [ "$WHICH" = "$set" ] || continue
  for side in old new; do
    if [ $side = old ]; then ver=$ov; want=$so; else ver=$nv; want=$sn; fi
    out=$TARGET/$name.$side
    if [ $PINS_ONLY = 0 ] && ok "$out" "$want"; then continue; fi
    echo "wide-corpus: $name.$side <- $pkg@$ver:$glob" >&2
    tgz=$(fetch "$pkg" "$ver")
    extract "$tgz" "$how" "$glob" "$out"
    ok "$out" "$want" || { echo "wide-corpus: $name.$side sha256 mismatch (want $want, got $(sha256sum "$out" | cut -d' ' -f1))" >&2; exit 1; }
  done
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$set" "$pkg" "$ov" "$nv" \
    "$(stat -c %s "$TARGET/$name.old")" "$(stat -c %s "$TARGET/$name.new")" \
    "$(sha256sum "$TARGET/$name.old" | cut -d' ' -f1)" "$(sha256sum "$TARGET/$name.new" | cut -d' ' -f1)" \
    "$note" >> "$MAN"
  n=$((n+1))
done <<< "$PAIRS"
mv "$MAN" "$TARGET/MANIFEST.tsv"
[ $PINS_ONLY = 0 ] || sort -u "$WORK/pins"
echo "wide-corpus: $n pairs ready in $TARGET ($WHICH)" >&2
